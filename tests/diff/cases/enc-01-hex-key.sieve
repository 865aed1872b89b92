require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:42 75 64 67 65 74}" { fileinto "Budget"; }
