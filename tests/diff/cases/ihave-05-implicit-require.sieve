# A true ihave makes the extension usable in its block.
require "ihave";
if ihave "fileinto" { fileinto "Filed"; }
