# An empty type matches every part.
require ["body", "fileinto"];
if body :content "" :contains "INV-2026-0042" { fileinto "Empty"; }
