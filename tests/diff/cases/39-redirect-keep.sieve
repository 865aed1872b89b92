redirect "assistant@example.org";
keep;
