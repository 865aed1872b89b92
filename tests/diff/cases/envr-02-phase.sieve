# sieve-test says "post", delivery "during": test only that it is one of the three.
require ["environment", "fileinto"];
if environment :is "phase" ["pre", "during", "post"] { fileinto "Phase"; }
