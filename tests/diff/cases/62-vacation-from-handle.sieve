require "vacation";
vacation :from "me@example.org" :handle "away-nov" :subject "Away"
  "I am away until Monday.";
