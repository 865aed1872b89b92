# Identifiers and tags are case-insensitive.
REQUIRE "fileinto";
IF Header :CONTAINS "Subject" "budget" {
  FileInto "Budget";
} ELSE {
  Keep;
}
