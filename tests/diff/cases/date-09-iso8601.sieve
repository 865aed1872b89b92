require ["date", "fileinto"];
if date :zone "+0000" "date" "iso8601" "2026-11-11T15:02:11*" { fileinto "Wrong"; }
if date :zone "+0000" :matches "date" "iso8601" "2026-11-11T15:02:11*" { fileinto "Iso"; }
