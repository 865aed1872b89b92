require "reject";
ereject "Not accepted.";
