# "/plain" begins with a slash: it matches no part.
require ["body", "fileinto"];
if body :content "/plain" :contains "" { fileinto "Wrong"; }
else { fileinto "None"; }
