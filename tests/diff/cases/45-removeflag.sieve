require "imap4flags";
addflag "\\Flagged";
addflag "\\Seen";
removeflag "\\Seen";
keep;
