# Subject: =?ISO-8859-1?Q?...?= decodes to "Café crème à midi?".
require "fileinto";
if header :is "subject" "Café crème à midi?" {
  fileinto "Friends";
}
