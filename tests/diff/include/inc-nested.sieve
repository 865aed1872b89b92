require ["include", "fileinto"];
fileinto "Outer";
include :personal "inc-inner";
