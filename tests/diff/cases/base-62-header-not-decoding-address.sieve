require "fileinto";
if header :matches "from" "Amélie * <amelie@example.fr>" { fileinto "Decoded"; }
