# The last (oldest) Received field is dated 10:00:01.
require ["index", "date", "fileinto"];
if date :index 1 :last :zone "+0000" "received" "second" "01" { fileinto "Oldest"; }
