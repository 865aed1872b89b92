require ["include", "fileinto"];
include :once "inc-lists";
include :once "inc-lists";
fileinto "Main";
