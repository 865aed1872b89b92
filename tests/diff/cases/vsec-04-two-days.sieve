require "vacation-seconds";
vacation :seconds 172800 :subject "Away" "Away.";
