# keep takes the flags as they are when it runs.
require ["imap4flags", "fileinto"];
fileinto "Boss";
addflag "\\Seen";
fileinto "Later";
