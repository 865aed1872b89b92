require "reject";
reject text:
I do not accept mail about budgets.
Write to finance@example.org instead.
.
;
