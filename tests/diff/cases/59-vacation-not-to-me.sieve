# To: team@example.org only: the message is not addressed to me.
require "vacation";
vacation :subject "Away" "I am away until Monday.";
