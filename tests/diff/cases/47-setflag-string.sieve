# One string may hold several flags separated by spaces.
require ["fileinto", "imap4flags"];
setflag "\\Seen \\Answered";
fileinto "Done";
