require ["duplicate", "fileinto"];
if duplicate :uniqueid "budget-2026" { fileinto "Dup"; } else { fileinto "NotDup"; }
