# X-Auto-Response-Suppress: OOF asks for no out-of-office reply.
require "vacation";
vacation :subject "Away" "Away.";
