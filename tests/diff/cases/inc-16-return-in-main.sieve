require ["include", "fileinto"];
fileinto "First";
return;
fileinto "Second";
