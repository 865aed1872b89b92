require "vacation";
vacation :days 2 :subject "Abwesend" text:
Ich bin bis Montag nicht im Büro.
.
;
