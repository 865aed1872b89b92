# Without :addresses the message is not addressed to me.
require "vacation";
vacation :subject "Away" "Away.";
