# Global script: files spam by its score.
require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" {
  fileinto "Junk";
}
