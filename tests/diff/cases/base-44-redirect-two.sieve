redirect "assistant@example.org";
redirect "deputy@example.org";
