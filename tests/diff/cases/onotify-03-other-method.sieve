require "notify";
notify :method "xmpp:alice@example.org";
