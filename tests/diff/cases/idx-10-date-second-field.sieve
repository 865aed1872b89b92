require ["index", "date", "fileinto"];
if date :index 2 :zone "+0000" "received" "second" "02" { fileinto "Second"; }
