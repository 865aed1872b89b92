# Under sieve_vacation_min_period (1 day): raised to it.
require "vacation-seconds";
vacation :seconds 3600 :subject "Away" "Away.";
