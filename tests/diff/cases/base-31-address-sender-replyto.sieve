require "fileinto";
if address :is "sender" "assistant@example.com" { fileinto "Sender"; }
if address :localpart :is "reply-to" "carl+replies" { fileinto "ReplyTo"; }
