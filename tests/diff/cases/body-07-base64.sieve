require ["body", "fileinto"];
if body :contains "reunión del lunes" { fileinto "Decoded"; }
if body :raw :contains "reunión" { fileinto "Wrong"; }
