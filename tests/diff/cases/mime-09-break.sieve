require ["foreverypart", "mime", "fileinto"];
foreverypart :name "parts" {
  if header :mime :type "content-type" "application" {
    fileinto "App";
    break :name "parts";
  }
  fileinto "BeforeApp";
}
