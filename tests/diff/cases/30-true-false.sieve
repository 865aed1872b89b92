require "fileinto";
if false {
  discard;
}
if true {
  fileinto "Always";
}
if not true {
  redirect "nobody@example.net";
}
