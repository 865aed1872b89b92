# List-Id but no Precedence header: still a list, no answer.
require "vacation";
vacation :subject "Away" "I am away until Monday.";
