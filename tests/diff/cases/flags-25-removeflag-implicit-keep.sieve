require "imap4flags";
setflag "\\Seen \\Flagged";
removeflag "\\Flagged";
