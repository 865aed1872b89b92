require ["variables", "fileinto"];
if header :matches "message-id" "<budget-??@*>" { fileinto "${1}${2}-${3}"; }
