require ["enotify", "fileinto"];
notify :message "Filed" "mailto:alice@example.org";
fileinto "Boss";
