# No answer to mailing lists (Precedence: list, List-Id).
require "vacation";
vacation :subject "Away" "I am away until Monday.";
