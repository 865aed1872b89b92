notify "mailto:alice@example.org";
