require "vacation";
vacation :subject "One" "First.";
vacation :subject "Two" "Second.";
