require ["body", "fileinto"];
if body :text :contains "JVBERi0" { fileinto "Wrong"; }
if body :raw :contains "JVBERi0" { fileinto "RawHasIt"; }
