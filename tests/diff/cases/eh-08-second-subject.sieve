require ["editheader", "fileinto"];
addheader "Subject" "Replaced";
if header :is "subject" "Replaced" { fileinto "AnySubject"; }
