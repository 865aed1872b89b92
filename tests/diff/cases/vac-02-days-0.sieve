require "vacation";
vacation :days 0 :subject "Away" "Back tomorrow.";
