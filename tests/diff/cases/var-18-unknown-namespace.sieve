# A namespace without a require is an error (RFC 5229 3).
require ["variables", "fileinto"];
fileinto "X${nosuchns.thing}Y";
