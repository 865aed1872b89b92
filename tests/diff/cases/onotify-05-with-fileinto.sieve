require ["notify", "fileinto"];
notify :method "mailto:alice@example.org" :message "$subject$";
fileinto "Boss";
