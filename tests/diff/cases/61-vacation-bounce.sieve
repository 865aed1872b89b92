# Null envelope sender, MAILER-DAEMON: no answer.
require "vacation";
vacation :subject "Away" "I am away until Monday.";
