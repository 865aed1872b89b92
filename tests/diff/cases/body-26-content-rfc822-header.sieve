# :content "message/rfc822" searches the header of the nested message.
require ["body", "fileinto"];
if body :content "message/rfc822" :contains "maintenance window" { fileinto "NestedHeader"; }
if body :content "message/rfc822" :contains "database servers" { fileinto "Wrong"; }
