require ["body", "foreverypart", "mime", "variables", "extracttext", "fileinto"];
# <html><body>Hel<b>lo</b> &amp; bye</body></html>
if body :text :contains "Hello & bye" { fileinto "html-as-text"; }
foreverypart {
  if header :mime :subtype "Content-Type" "html" { extracttext "html"; }
}
fileinto "html-${html}";
