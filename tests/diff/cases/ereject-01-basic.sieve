# Pigeonhole 0.5.19 does not implement ereject (RFC 5429).
require "ereject";
ereject "Not accepted.";
