require "vacation";
vacation :subject "Abwesend – bis Montag" "Ich bin nicht da.";
