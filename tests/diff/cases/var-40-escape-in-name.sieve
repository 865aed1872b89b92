# "${fo\o}" is "${foo}" after unescaping (RFC 5229 3.1).
require ["variables", "fileinto"];
set "foo" "Boss";
fileinto "${fo\o}";
