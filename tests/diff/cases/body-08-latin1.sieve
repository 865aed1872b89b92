# Quoted-printable ISO-8859-1, compared as UTF-8.
require ["body", "fileinto"];
if body :contains "au café à midi" { fileinto "Charset"; }
