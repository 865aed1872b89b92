# :length counts characters, not octets.
require ["variables", "fileinto"];
set :length "n" "Grüße";
fileinto "L${n}";
