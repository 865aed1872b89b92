# The original has no Subject.
require "vacation";
vacation "Away.";
