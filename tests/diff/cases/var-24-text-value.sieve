require ["variables", "reject"];
set "who" "Grace";
reject text:
Dear ${who},
I am away.
.
;
