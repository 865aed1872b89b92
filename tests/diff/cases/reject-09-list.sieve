require "reject";
reject "Not from lists.";
