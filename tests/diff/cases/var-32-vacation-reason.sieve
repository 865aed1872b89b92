require ["variables", "vacation"];
if header :matches "subject" "Budget *" { set "topic" "${1}"; }
vacation :subject "Re: ${topic}" "Away.";
