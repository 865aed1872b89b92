# Subject holds no addresses: Pigeonhole refuses the address test.
require "fileinto";
if address :contains "subject" "budget" { fileinto "Wrong"; }
fileinto "After";
