require ["mime", "fileinto"];
if header :mime :param "boundary" "content-type" "alt-7e1" { fileinto "Boundary"; }
