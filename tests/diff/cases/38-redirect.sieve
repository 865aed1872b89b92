redirect "assistant@example.org";
