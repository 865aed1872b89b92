# To: undisclosed-recipients:; has no address. RFC 5228 2.7.4: an
# invalid address is matched whole by :all, never by :localpart/:domain.
require "fileinto";
if address :all :matches "to" "*" { fileinto "All"; }
if address :localpart :matches "to" "*" { fileinto "Localpart"; }
if address :domain :matches "to" "*" { fileinto "Domain"; }
