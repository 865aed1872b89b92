require ["enotify", "fileinto"];
if valid_notify_method "mailto:alice@example.org" { fileinto "Valid"; }
if valid_notify_method "xmpp:alice@example.org" { fileinto "Wrong"; }
