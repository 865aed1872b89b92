require "enotify";
notify :message "One" "mailto:alice@example.org";
notify :message "One" "mailto:alice@example.org";
