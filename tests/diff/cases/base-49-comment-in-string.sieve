# "/*" inside a string is not a comment.
require "reject";
reject "a /* b */ c";
