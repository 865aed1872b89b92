require "vacation";
vacation :handle "h1" "Away.";
