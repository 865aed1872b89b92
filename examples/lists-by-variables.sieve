# lists-by-variables.sieve - one folder per mailing list, without a rule
# per list (RFC 5229 variables).
#
# "List-Id: Developers <dev.lists.example.org>" files the message into
# Lists.dev; a new list gets its folder the first time it writes.
# ${1} is the text the first * matched.

require ["fileinto", "variables"];

if header :matches "List-Id" "*<*.lists.example.org>*" {
    set :lower "list" "${2}";
    fileinto "Lists.${list}";
    stop;
}
# any other list: the part before the first dot of its identifier
if header :matches "List-Id" "*<*.*>*" {
    set :lower "list" "${2}";
    fileinto "Lists.other.${list}";
}
