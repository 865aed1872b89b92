require "vacation-seconds";
vacation :seconds 0 :subject "Away" "Away.";
