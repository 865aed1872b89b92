require "reject";
reject "Unsubscribe me.";
