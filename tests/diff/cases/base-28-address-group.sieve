# Cc holds a group "Team: dee@..., eve@...;": its members are addresses.
require "fileinto";
if address :is "cc" "eve@example.org" { fileinto "Eve"; }
