require ["encoded-character", "reject"];
reject "Caf${unicode:E9} closed${hex:21}";
