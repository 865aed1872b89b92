# vacation.sieve - an "away" answer (RFC 5230).
#
# Whom it answers: mail that names one of your addresses in To, Cc or
# Bcc: one of the config's "addresses", the :addresses below, the :from
# address or the envelope recipient (deliver -a, or $RECIPIENT).
#
# The reply comes from :from if given, else from the first of the
# config's addresses. Give :from as a bare address (me@example.org),
# without a display name. Without :subject, the subject is "Auto: " and
# the original subject.
#
# mailsift never answers mailing lists (List-* headers), bulk or junk
# mail (Precedence), bounces (empty envelope sender), mailer daemons,
# automatic messages (Auto-Submitted) or yourself, and answers each
# sender at most once per :days (history in state.db). A :days above
# the config's vacation_max_days is lowered to it.
#
# The answer is put in the outbound queue; sending it over SMTP is not
# built yet (see the README).

require "vacation";

vacation
    :days 7
    :subject "Away until 1 December"
    :addresses ["me@example.org", "me@example.net"]
text:
I am away until 1 December and read mail only now and then.
For anything urgent, please write to deputy@example.org.
.
;
