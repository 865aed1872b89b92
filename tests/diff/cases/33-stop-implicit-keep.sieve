# stop before any action: the implicit keep stays.
require "fileinto";
if header :contains "subject" "lottery" {
  fileinto "Junk";
}
stop;
discard;
