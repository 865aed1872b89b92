# X-Priority: 1 is one character.
require "fileinto";
if header :matches "x-priority" "??" { fileinto "Two"; }
elsif header :matches "x-priority" "?" { fileinto "One"; }
