# Received cannot be deleted (RFC 5293 6): the attempt is ignored
require ["editheader", "fileinto"];
deleteheader "Received";
if exists "Received" {
  fileinto "Traced";
}
