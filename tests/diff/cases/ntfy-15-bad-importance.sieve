require "enotify";
notify :importance "9" "mailto:alice@example.org";
