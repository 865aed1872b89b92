require ["foreverypart", "mime", "fileinto"];
foreverypart {
  if header :mime :param "charset" "content-type" "UTF-8" { fileinto "Utf8"; }
}
