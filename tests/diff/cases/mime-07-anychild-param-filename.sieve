require ["mime", "fileinto"];
if header :mime :anychild :param "filename" "content-disposition" "contract.pdf" { fileinto "Contract"; }
