require "enotify";
notify :importance "1" :message "Mail from the boss" "mailto:alice@example.org";
