# The same address with and without :copy: one redirect, and the
# plain redirect cancels the implicit keep.
require "copy";
redirect :copy "assistant@example.org";
redirect "assistant@example.org";
