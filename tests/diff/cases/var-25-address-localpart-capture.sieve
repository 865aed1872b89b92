require ["variables", "fileinto"];
if address :localpart :matches "cc" "*+*" { fileinto "CC.${2}"; }
