require ["date", "fileinto"];
if currentdate :matches "date" "????-??-??" { fileinto "Shape"; }
