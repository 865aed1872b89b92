require "reject";
redirect "assistant@example.org";
reject "No.";
