# vacation-dated.sieve - answer only while you are away (RFC 5260 date
# and RFC 5230 vacation).
#
# currentdate reads the clock when the message arrives, in the zone you
# name; its "date" part is yyyy-mm-dd, and such strings compared with
# :value sort like the dates they are.
# Outside the range nothing is answered. The usual vacation rules hold:
# no answers to lists, bulk or automatic mail, at most one per sender
# and :days.

require ["vacation", "date", "relational"];

if allof (currentdate :zone "+0100" :value "ge" "date" "2026-12-21",
          currentdate :zone "+0100" :value "le" "date" "2027-01-04") {
    vacation :days 7 :subject "Away until 4 January"
             :addresses ["me@example.org", "me@work.example.com"]
"I am away until 4 January and will answer when I am back.";
}
