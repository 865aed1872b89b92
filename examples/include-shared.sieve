# include-shared.sieve - keep rules you use in several scripts in one
# file and include it (RFC 6609).
#
# include :personal "spam" reads spam.sieve from sieve_dir (default: the
# folder of this script); include :global reads from sieve_global_dir.
# :optional makes a missing file no error; :once includes it once even
# if another included script includes it too. Variables stay private to
# each script unless both declare them global.

require ["include", "fileinto", "variables"];

global "junk_folder";
set "junk_folder" "Junk";

include :personal :once "spam";

fileinto "Inbox-sorted";
