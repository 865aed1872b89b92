require "fileinto";
if anyof (false, header :is "subject" "x", exists "x-nothing") { fileinto "Wrong"; }
