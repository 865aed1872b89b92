require ["foreverypart", "mime", "variables", "extracttext", "fileinto"];
foreverypart {
  if header :mime :param "charset" "Content-Type" "iso-8859-1" {
    extracttext :first 2 "latin";
  }
  if header :mime :type "Content-Type" "multipart" {
    extracttext "multi";
  }
}
fileinto "latin-${latin}";
fileinto "multi-${multi}";
