require ["variables", "fileinto"];
set "a" "red apple";
set "b" "green pear";
if string :contains ["${a}", "${b}"] "pear" { fileinto "Pear"; }
