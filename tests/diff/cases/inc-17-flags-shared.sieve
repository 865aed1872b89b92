# The internal flags are shared with included scripts.
require ["include", "imap4flags", "fileinto"];
include "inc-keep-flags";
fileinto "Boss";
