# Several header names and several keys: any pair may match.
require "fileinto";
if header :contains ["from", "sender"] ["nobody@", "dev-bounces@"] {
  fileinto "Lists.bounces";
}
