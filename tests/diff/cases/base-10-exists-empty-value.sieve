# X-Empty is present with an empty value: exists is true.
require "fileinto";
if exists "x-empty" { fileinto "Present"; }
