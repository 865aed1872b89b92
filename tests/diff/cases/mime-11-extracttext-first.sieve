require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :subtype "content-type" "csv" {
    extracttext :first 4 "t";
    fileinto "First.${t}";
  }
}
