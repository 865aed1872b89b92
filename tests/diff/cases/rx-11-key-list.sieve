require ["regex", "fileinto"];
if header :regex "subject" ["^Lunch", "Q[0-9]"] { fileinto "Quarter"; }
