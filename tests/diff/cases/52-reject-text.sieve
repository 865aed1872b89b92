require "reject";
reject text:
Please write to me directly,
not to a group.
.
;
