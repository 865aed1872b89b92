require "vacation";
vacation :days 100 :subject "Away" "Back in spring.";
