require ["include", "variables", "fileinto"];
global "tag";
include "inc-set-global";
fileinto "${tag}";
