require ["variables", "fileinto"];
if string :is "${never_set}" "" { fileinto "Empty"; }
fileinto "A${never_set}B";
