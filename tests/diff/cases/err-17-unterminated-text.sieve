require "reject";
reject text:
This text never ends.
