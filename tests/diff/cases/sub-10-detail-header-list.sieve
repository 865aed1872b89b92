require ["subaddress", "fileinto"];
if address :detail ["to", "cc"] ["ci", "nothing"] { fileinto "CI"; }
