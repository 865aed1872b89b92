require ["foreverypart", "mime", "variables", "fileinto"];
foreverypart :name "outer" {
  set "o" "${o}o";
  foreverypart {
    if header :mime :subtype "Content-Type" "html" { break :name "outer"; }
    set "i" "${i}i";
  }
}
foreverypart {
  if header :mime :type "Content-Type" "message" { break; }
  set "n" "${n}n";
}
fileinto "o-${o}-i-${i}-n-${n}";
