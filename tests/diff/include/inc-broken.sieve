# A syntax error: the including script must not run either.
require "fileinto";
fileinto "Broken"
