require "vacation";
vacation :days 1 :subject "Away" "Back tomorrow.";
