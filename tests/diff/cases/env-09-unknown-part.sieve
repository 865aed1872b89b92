# An envelope part the implementation does not know is an error.
# (libsieve looks only at the first letter, and crashes on a part that
# starts with neither "f" nor "t"; this one starts with "f".)
require ["envelope", "fileinto"];
if envelope :is "forward-path" "grace@example.org" { fileinto "Never"; }
fileinto "After";
