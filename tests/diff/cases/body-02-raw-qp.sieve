# :raw sees the transfer encoding.
require ["body", "fileinto"];
if body :raw :contains "Entr=C3=A9e" { fileinto "RawQP"; }
