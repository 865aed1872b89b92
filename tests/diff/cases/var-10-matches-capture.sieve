require ["variables", "fileinto"];
if header :matches "subject" "[dev] Release * planning" {
  fileinto "Release.${1}";
}
