# stop in an included script ends the whole run.
require ["include", "fileinto"];
include "inc-stop";
fileinto "Main";
