require ["include", "variables"];
global "tag";
set "tag" "FromIncluded";
