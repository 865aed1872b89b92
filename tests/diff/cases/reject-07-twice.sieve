require "reject";
reject "First.";
reject "Second.";
