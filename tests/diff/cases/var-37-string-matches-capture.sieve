require ["variables", "fileinto"];
set "v" "2026-11-11";
if string :matches "${v}" "*-*-*" { fileinto "${1}.${2}"; }
