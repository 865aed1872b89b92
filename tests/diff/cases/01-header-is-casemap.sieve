# :is compares with i;ascii-casemap by default: "HIGH" matches "high".
require "fileinto";
if header :is "importance" "HIGH" {
  fileinto "Urgent";
}
