# An invalid redirect address is an error in the script.
require "fileinto";
fileinto "Before";
redirect "not an address";
