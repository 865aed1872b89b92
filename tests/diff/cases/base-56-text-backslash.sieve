# A text: string has no escapes: backslashes stay.
require "reject";
reject text:
Path C:\temp\new and a quote \" here.
.
;
