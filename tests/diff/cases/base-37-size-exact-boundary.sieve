# boss.eml is 452 octets: neither over nor under 452.
require "fileinto";
if size :over 452 { fileinto "Over"; }
if size :under 452 { fileinto "Under"; }
if size :over 451 { fileinto "Over451"; }
if size :under 453 { fileinto "Under453"; }
