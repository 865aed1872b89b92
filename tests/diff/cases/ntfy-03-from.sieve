require "enotify";
notify :from "me@example.org" :importance "3" "mailto:alice@example.org";
