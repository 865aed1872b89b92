# 3G does not fit in a C int: libsieve 2.2.6 turns this into :over 0.
# The correct result is implicit keep (mailsift refuses the script).
require "fileinto";
if size :over 3G {
  fileinto "Huge";
}
