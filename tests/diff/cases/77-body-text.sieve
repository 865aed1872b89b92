require ["body", "fileinto"];
# :text is the default: text parts, decoded, in UTF-8, HTML as text
if body :contains "Hello" { fileinto "hello"; }
if body :text :contains "Grüße aus Köln" { fileinto "latin1-qp"; }
if body :text :contains "SECRET PAYLOAD" { fileinto "not-text"; }
if body :text :contains "nested multi-part" { fileinto "prologue-is-not-text"; }
if body :text :matches "*Please say*" { fileinto "inner-message-text"; }
