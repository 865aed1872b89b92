# To: team@..., Cc: me.alias@...: :addresses makes the alias mine.
require "vacation";
vacation :addresses ["me.alias@example.org"] :subject "Away" "Away.";
