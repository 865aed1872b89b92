require ["body", "fileinto"];
if body :text :contains "espresso" { fileinto "Espresso"; }
if body :text :contains "<i>" { fileinto "Tags"; }
