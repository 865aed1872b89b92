# "Smith, Carl" <carl@...>: the comma in the quoted name does not split.
require "fileinto";
if address :is "from" "carl@example.com" { fileinto "Carl"; }
