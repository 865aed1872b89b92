require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :subtype "content-type" "plain" {
    extracttext "t";
    if string :contains "${t}" "INV-2026-0042" { fileinto "Invoice"; }
  }
}
