require ["include", "variables"];
global "folder";
set "folder" "Shared";
include "inc-use-global";
