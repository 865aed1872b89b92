# No answer to Auto-Submitted: auto-generated.
require "vacation";
vacation :subject "Away" "I am away until Monday.";
