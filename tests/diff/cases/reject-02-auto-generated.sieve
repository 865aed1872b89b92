require "reject";
reject "No robots.";
