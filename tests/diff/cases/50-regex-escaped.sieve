# "\\[" is the regex \[ (a literal bracket) after Sieve unescaping.
require ["fileinto", "regex"];
if header :regex "subject" "^\\[dev\\] release [0-9]+\\.[0-9]+ " {
  fileinto "Lists.dev.release";
}
