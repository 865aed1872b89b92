# A hash comment may follow text: on its line.
require "reject";
reject text: # the reason follows
Not accepted.
.
;
