# spam.sieve - shared rules, included by include-shared.sieve.
# The score comes from the header your spam filter adds; configure it as
# spamtest_header (and spamtest_max) in the [general] group.

require ["include", "fileinto", "variables", "spamtest", "relational",
         "comparator-i;ascii-numeric"];

global "junk_folder";

if spamtest :value "ge" :comparator "i;ascii-numeric" "6" {
    fileinto "${junk_folder}";
    stop;
}
