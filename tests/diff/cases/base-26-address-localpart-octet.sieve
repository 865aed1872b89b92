require "fileinto";
if address :localpart :is :comparator "i;octet" "from" "Grace" { fileinto "Wrong"; }
if address :localpart :is :comparator "i;octet" "from" "grace" { fileinto "Right"; }
