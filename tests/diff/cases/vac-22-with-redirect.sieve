require "vacation";
vacation :subject "Away" "Away.";
redirect "assistant@example.org";
