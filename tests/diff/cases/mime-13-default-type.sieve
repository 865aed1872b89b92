# No Content-Type field at all (MIME says text/plain; the field is absent).
require ["mime", "fileinto"];
if header :mime :type "content-type" "text" { fileinto "Text"; }
