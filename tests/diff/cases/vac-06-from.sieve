require "vacation";
vacation :from "Me <me@example.org>" :subject "Away" "Away.";
