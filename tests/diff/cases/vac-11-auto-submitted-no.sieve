# Auto-Submitted: no is a message from a person.
require "vacation";
vacation :subject "Away" "Away.";
