require ["foreverypart", "mime", "variables", "fileinto"];
foreverypart {
  if header :mime :type "Content-Type" "text" { set "seq" "${seq}t"; }
  elsif header :mime :contenttype "Content-Type" "multipart/alternative" { set "seq" "${seq}a"; }
  else { set "seq" "${seq}o"; }
  if header :mime :param "filename" "Content-Disposition" "x.bin" { fileinto "attachment-found"; }
  if header "X-Test" "BB" { fileinto "plain-header-is-top-level"; }
  if header :mime "X-Test" "BB" { set "seq" "${seq}B"; }
}
fileinto "seq-${seq}";
