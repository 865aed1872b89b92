require ["enotify", "variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
notify :message "New: ${s}" "mailto:alice@example.org";
