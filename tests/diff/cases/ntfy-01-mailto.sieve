require "enotify";
notify "mailto:alice@example.org";
