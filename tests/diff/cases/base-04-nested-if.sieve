require "fileinto";
if exists "list-id" {
  if header :contains "list-id" "dev" {
    if header :matches "subject" "*release*" { fileinto "Dev.release"; }
    else { fileinto "Dev"; }
  }
}
