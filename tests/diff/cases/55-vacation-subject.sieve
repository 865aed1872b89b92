require "vacation";
vacation :subject "Out of office" "I am away until Monday.";
