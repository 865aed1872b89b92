require ["date", "fileinto"];
if currentdate :is "weekday" ["0", "1", "2", "3", "4", "5", "6"] { fileinto "SomeDay"; }
