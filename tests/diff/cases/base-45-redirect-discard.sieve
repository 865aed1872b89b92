redirect "assistant@example.org";
discard;
