require "reject";
reject text:
Lines that start with a dot:
..one dot
...two dots
.not doubled
.
;
