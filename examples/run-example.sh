#!/bin/sh
# run-example.sh - the bundled example, run by `make example`:
#
#     sh examples/run-example.sh /absolute/path/to/mailsift
#
# Delivers every examples/messages/*.eml through examples/example.sieve
# into examples/out/Maildir, as an MTA would (one `mailsift deliver` per
# message, addressed to me@example.org), then prints how many messages
# each folder received and what was put in the outbound queue.
#
# Everything it writes is under examples/out/, which is removed first.
# Exit status: 0 when every message was delivered, 1 otherwise, 64 usage.

if [ $# -ne 1 ]; then
    echo "usage: sh examples/run-example.sh /path/to/mailsift" >&2
    exit 64
fi
mailsift=$1
case $mailsift in
    /*) ;;
    *) mailsift=$(pwd)/$mailsift ;;
esac
if [ ! -x "$mailsift" ] || [ -d "$mailsift" ]; then
    echo "run-example: $mailsift is not an executable file (run make first)" >&2
    exit 1
fi

here=$(CDPATH='' cd -P -- "$(dirname -- "$0")" && pwd) || exit 1
out=$here/out
conf=$out/config
maildir=$out/Maildir
state=$out/state
me=me@example.org

rm -rf -- "$out" || exit 1
umask 077
mkdir -- "$out" || exit 1

# The config: examples/mailsift.conf with the paths and the address
# pointed into examples/out/. It has a single [general] group, so the
# lines appended at its end belong to that group.
{
    echo "# Written by examples/run-example.sh from examples/mailsift.conf."
    awk '!/^[ \t]*(maildir|state_dir|script|addresses)[ \t]*=/' "$here/mailsift.conf"
    echo
    echo "# Set by run-example.sh:"
    echo "maildir = $maildir"
    echo "state_dir = $state"
    echo "script = $here/example.sieve"
    echo "addresses = $me"
} >"$conf" || exit 1
chmod 600 "$conf" || exit 1

# The envelope sender of a message file: the address in its first
# Return-Path header ("" for Return-Path: <>), else the one in From.
sender_of() {
    awk '
        /^\r?$/ { exit }
        !have_rp && tolower($0) ~ /^return-path:/ { rp = substr($0, 13); have_rp = 1 }
        from == "" && tolower($0) ~ /^from:/ { from = substr($0, 6) }
        END {
            v = have_rp ? rp : from
            if (match(v, /<[^>]*>/))
                v = substr(v, RSTART + 1, RLENGTH - 2)
            else
                gsub(/^[ \t]+|[ \t\r]+$/, "", v)
            print v
        }' "$1"
}

echo "== mailsift check -c $conf"
"$mailsift" check -c "$conf"
status=$?
if [ "$status" -ne 0 ]; then
    echo "run-example: mailsift check failed (exit status $status); nothing delivered" >&2
    exit 1
fi

echo
echo "== mailsift deliver -v -c $conf -f SENDER -a $me < MESSAGE"
total=0
failed=0
for msg in "$here"/messages/*.eml; do
    [ -f "$msg" ] || continue
    total=$((total + 1))
    name=${msg##*/}
    sender=$(sender_of "$msg")
    log=$("$mailsift" deliver -v -c "$conf" -f "$sender" -a "$me" <"$msg" 2>&1)
    status=$?
    if [ "$status" -eq 0 ]; then
        echo "$name (sender <$sender>): delivered"
    else
        echo "$name (sender <$sender>): NOT DELIVERED, exit status $status"
        failed=$((failed + 1))
    fi
    if [ -n "$log" ]; then
        printf '%s\n' "$log" | sed 's/^mailsift\[[0-9]*\]: /    /'
    fi
done

# One line per folder: its name, how many messages it holds (new/ and
# cur/), and how many of them carry the flagged (F) or seen (S) letter.
folder_line() {
    count=0 flagged=0 seen=0
    for f in "$2"/new/* "$2"/cur/*; do
        [ -f "$f" ] || continue
        count=$((count + 1))
        case $f in
            */cur/*:2,*F*) flagged=$((flagged + 1)) ;;
        esac
        case $f in
            */cur/*:2,*S*) seen=$((seen + 1)) ;;
        esac
    done
    extra=
    [ "$flagged" -gt 0 ] && extra="$extra, $flagged flagged"
    [ "$seen" -gt 0 ] && extra="$extra, $seen seen"
    [ -n "$extra" ] && extra="  (${extra#, })"
    printf '  %-18s %3d%s\n' "$1" "$count" "$extra"
}

echo
echo "== Summary"
echo "Folders in $maildir:"
if [ -d "$maildir" ]; then
    folder_line INBOX "$maildir"
    for dir in "$maildir"/.[!.]*; do
        [ -d "$dir/cur" ] || continue
        folder_line "${dir##*/.}" "$dir"
    done
else
    echo "  (no Maildir: nothing was delivered)"
fi

echo "Outbound queue in $state (kept: the example configures no [smtp] smarthost):"
db=$state/state.db
if [ ! -f "$db" ]; then
    echo "  (no state.db)"
elif ! command -v sqlite3 >/dev/null 2>&1; then
    echo "  (install the sqlite3 command to list it)"
else
    rows=$(sqlite3 -separator ' ' "$db" \
        'SELECT reason, count(*) FROM queue GROUP BY reason ORDER BY reason')
    if [ -z "$rows" ]; then
        echo "  (empty)"
    else
        printf '%s\n' "$rows" | while read -r reason n; do
            printf '  %-18s %3d\n' "$reason" "$n"
        done
    fi
fi

echo
echo "$total messages, $((total - failed)) delivered, $failed failed."
[ "$failed" -eq 0 ]
