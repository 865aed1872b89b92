require "vacation";
vacation :from "not an address" :subject "Away" "Away.";
