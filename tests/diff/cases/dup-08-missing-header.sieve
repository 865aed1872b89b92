# No Message-ID: duplicate is false.
require ["duplicate", "fileinto"];
if duplicate { fileinto "Dup"; } else { fileinto "NotDup"; }
