require ["editheader", "fileinto"];
deleteheader "subject";
addheader "Subject" "Fresh";
if header :is "subject" "Fresh" { fileinto "Fresh"; }
