# Without global, the included script does not see "folder".
require ["include", "variables", "fileinto"];
set "folder" "Local";
include "inc-use-global";
