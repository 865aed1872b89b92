# "text" covers every text/* part.
require ["body", "fileinto"];
if body :content "text" :contains "travel,310" { fileinto "AnyText"; }
