require "fileinto";
if address :is ["to", "cc"] ["bob@example.net", "nobody@example.net"] { fileinto "Bob"; }
