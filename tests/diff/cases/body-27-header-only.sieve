# No empty line after the header: no body, every body test is false.
require ["body", "fileinto"];
if body :contains "" { fileinto "Wrong"; }
else { fileinto "NoBody"; }
