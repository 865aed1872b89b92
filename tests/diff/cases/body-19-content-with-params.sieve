# "text/plain; charset=utf-8" names a type no part has (parameters are
# not split off), so nothing matches.
require ["body", "fileinto"];
if body :content "text/plain; charset=utf-8" :contains "Q3" { fileinto "Params"; }
