require ["foreverypart", "mime", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
set "n" "0";
foreverypart {
  if header :mime :type "content-type" "message" { fileinto "Message"; }
  if header :mime :subtype "content-type" "plain" { fileinto "Plain"; }
}
