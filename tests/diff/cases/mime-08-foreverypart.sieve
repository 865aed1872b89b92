require ["foreverypart", "mime", "fileinto"];
foreverypart {
  if header :mime :subtype "content-type" "csv" { fileinto "Csv"; }
}
