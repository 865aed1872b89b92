# The old draft notify (libsieve); Pigeonhole does not have it enabled.
require "notify";
notify :method "mailto:alice@example.org" :message "Mail from $from$";
