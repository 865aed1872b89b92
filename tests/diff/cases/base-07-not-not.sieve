require "fileinto";
if not not exists "importance" { fileinto "Important"; }
