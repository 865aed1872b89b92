require "reject";
reject "No.";
keep;
