# No rejection notice to the null sender.
require "reject";
reject "No bounces, please.";
