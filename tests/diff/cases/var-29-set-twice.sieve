require ["variables", "fileinto"];
set "f" "One";
set "f" "${f}Two";
fileinto "${f}";
