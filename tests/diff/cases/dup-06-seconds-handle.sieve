require ["duplicate", "fileinto"];
if duplicate :handle "lists" :seconds 3600 { fileinto "Dup"; } else { fileinto "NotDup"; }
