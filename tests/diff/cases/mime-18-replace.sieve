# replace (RFC 5703 5) is not in Pigeonhole 0.5.19.
require ["mime", "replace"];
replace "Removed.";
