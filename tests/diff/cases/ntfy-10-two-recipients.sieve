require "enotify";
notify "mailto:alice@example.org";
notify "mailto:carol@example.org";
