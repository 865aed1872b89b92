# Each action is performed once (RFC 5228 2.10.3).
require "fileinto";
fileinto "Boss";
fileinto "Boss";
redirect "assistant@example.org";
redirect "assistant@example.org";
keep;
keep;
