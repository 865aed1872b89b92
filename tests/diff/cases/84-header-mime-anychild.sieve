require ["mime", "fileinto"];
if header :mime :anychild "Subject" "hello request" { fileinto "inner-subject"; }
if header :mime "Subject" "hello request" { fileinto "WRONG-top-only"; }
if exists :mime :anychild "Content-Disposition" { fileinto "has-attachment"; }
if header :mime :type "Content-Type" "multipart" { fileinto "top-multipart"; }
if address :mime :anychild :localpart "From" "Someone" { fileinto "WRONG-no-address"; }
