# Uses the global variable "folder" set by the including script.
require ["include", "variables", "fileinto"];
global "folder";
fileinto "Got${folder}";
