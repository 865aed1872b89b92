require "vacation";
vacation :seconds 86400 "Away.";
