require ["imap4flags", "fileinto"];
addflag "\\Seen \\Flagged";
removeflag "\\Flagged";
if hasflag "\\Flagged" { fileinto "Wrong"; }
elsif hasflag "\\Seen" { fileinto "Right"; }
