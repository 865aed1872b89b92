require "vacation-seconds";
vacation :days 1 :seconds 3600 "Away.";
