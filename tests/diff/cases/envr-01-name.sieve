# The "name" item is the implementation's name.
require ["environment", "fileinto"];
if environment :is "name" "Pigeonhole Sieve" { fileinto "Pigeonhole"; }
elsif environment :is "name" "mailsift" { fileinto "Mailsift"; }
