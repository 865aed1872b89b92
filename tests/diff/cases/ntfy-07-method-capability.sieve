require ["enotify", "fileinto"];
if notify_method_capability "mailto:alice@example.org" "online" "maybe" { fileinto "Maybe"; }
