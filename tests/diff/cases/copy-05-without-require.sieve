redirect :copy "assistant@example.org";
