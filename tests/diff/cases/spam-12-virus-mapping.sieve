# X-Virus-Score: 1 of 5.
require ["virustest", "fileinto", "variables"];
if virustest :matches "*" { fileinto "Virus${1}"; }
