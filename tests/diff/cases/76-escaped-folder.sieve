# "\." is an undefined escape: it stands for "." (RFC 5228 2.4.2).
require "fileinto";
fileinto "Work\.Archive";
