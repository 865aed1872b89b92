# An RFC 5322 mailbox with a display name is a valid redirect address.
require "fileinto";
fileinto "Before";
redirect "Assistant <assistant@example.org>";
