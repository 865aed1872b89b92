require ["body", "fileinto"];
if body :raw :contains "U0VDUkVUIFBBWUxPQUQ=" { fileinto "base64-undecoded"; }
if body :raw :contains "SECRET PAYLOAD" { fileinto "decoded"; }
if body :raw :contains "Gr=FC=DFe" { fileinto "qp-undecoded"; }
if body :raw :contains "Content-Type: message/rfc822" { fileinto "mime-headers"; }
if body :raw :contains "X-Test: AA" { fileinto "outer-header"; }
