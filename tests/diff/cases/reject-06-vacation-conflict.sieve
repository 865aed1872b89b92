require ["reject", "vacation"];
vacation "Away.";
reject "No.";
