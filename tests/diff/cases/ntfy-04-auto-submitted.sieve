# No notification about an auto-submitted message (RFC 5436 2.7).
require "enotify";
notify "mailto:alice@example.org";
