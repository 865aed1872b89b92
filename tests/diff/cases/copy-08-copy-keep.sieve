require "copy";
redirect :copy "assistant@example.org";
keep;
