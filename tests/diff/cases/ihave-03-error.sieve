# The error command fails the script: implicit keep.
require ["ihave", "fileinto"];
fileinto "Before";
error "Giving up.";
