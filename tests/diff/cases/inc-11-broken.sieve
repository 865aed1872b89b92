require ["include", "fileinto"];
fileinto "Before";
include "inc-broken";
