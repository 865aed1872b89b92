# The body test never sees the header.
require ["body", "fileinto"];
if body :raw :contains "Subject:" { fileinto "Wrong"; }
else { fileinto "NoHeader"; }
