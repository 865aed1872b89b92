# fileinto without :flags takes the current flags.
require ["fileinto", "imap4flags"];
addflag "\\Flagged";
fileinto "Boss";
