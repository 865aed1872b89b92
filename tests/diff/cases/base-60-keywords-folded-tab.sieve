# Keywords: invoice,<LF><TAB>finance -- how is the fold unfolded?
require "fileinto";
if header :matches "keywords" "invoice,?finance" { fileinto "OneChar"; }
if header :is "keywords" "invoice,	finance" { fileinto "Tab"; }
if header :is "keywords" "invoice, finance" { fileinto "Space"; }
if header :is "keywords" "invoice,finance" { fileinto "Nothing"; }
