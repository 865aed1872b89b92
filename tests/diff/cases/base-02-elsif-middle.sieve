require "fileinto";
if header :contains "subject" "party" { fileinto "Party"; }
elsif header :contains "subject" "budget" { fileinto "Budget"; }
elsif header :contains "subject" "review" { fileinto "Review"; }
else { fileinto "Other"; }
