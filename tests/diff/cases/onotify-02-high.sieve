require "notify";
notify :method "mailto:alice@example.org" :high;
