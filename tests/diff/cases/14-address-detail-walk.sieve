# To: me+lists@..., bob+work@..., carol@... (the last one has no detail)
require ["fileinto", "subaddress"];
if address :detail :is "to" "work" {
  fileinto "Work";
}
