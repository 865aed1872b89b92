#!/bin/sh
# Build mailsift's fuzz targets with clang's libFuzzer, ASan and UBSan,
# and assemble their seed corpora. Run from anywhere; output goes to
# tests/fuzz/out/ (or $1), which git ignores.
#
#   tests/fuzz/build.sh
#
# Needs clang (apt-get install clang) and the build dependencies. The
# agent and filter sources are compiled once into out/libmailsift-fuzz.a
# (instrumented, fuzzer-no-link); each target links what it needs.
#
# Targets and what they take:
#   fuzz-sieve-script  a Sieve script, NUL, a message (filters/sieve-*.c)
#   fuzz-sieve-match   match types and comparators (filters/sieve-match.c)
#   fuzz-header        a message header: the header view and RFC 2047
#                      (message/header.c, message/rfc2047.c, address.c)
#   fuzz-address       an address list / address (message/address.c)
#   fuzz-utf7          a folder name, modified UTF-7 both ways with the
#                      round trip checked (message/utf7.c)
#   fuzz-imap          what an IMAP server sends during a whole fetch
#                      (agent/source-imap.c, agent/net-bounds.c, fetch.c)
#   fuzz-pop3          what a POP3 server sends during a whole fetch
#                      (agent/source-pop3.c, agent/net-bounds.c, fetch.c)
#   fuzz-config        a config file (agent/config.c, config-keys.c)
#   fuzz-wire          a result as the filter process sends it back
#                      (filters/wire.c, ms_filter_result_decode)
#
# Seeds: tests/fuzz/seeds/<target>/ holds small hand-made seeds kept in
# the tree; this script copies them to out/seeds-<target>/ and adds more
# taken from the tests (messages, scripts, configs). Run a target with a
# corpus directory of its own first (new inputs go there) and its seeds
# (on a shared machine, under nice):
#
#   o=tests/fuzz/out; mkdir -p $o/corpus-header
#   nice -n 10 $o/fuzz-header -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
#       -max_total_time=1800 -print_final_stats=1 $o/corpus-header $o/seeds-header
#
# The others the same way, each with its own corpus-<name> and
# seeds-<name>, and -max_len as follows:
#   fuzz-address 8192, fuzz-utf7 4096, fuzz-config 65536,
#   fuzz-imap 65536, fuzz-pop3 65536 (the fake server sends at most
#     256 KiB; FUZZ_VERBOSE=1 shows what the fetch made of an input),
#   fuzz-sieve-script 8192 (its seeds are in seeds-script),
#   fuzz-sieve-match 4096 (no seeds needed).
# A crash leaves crash-<sha1> (leak-, timeout-, oom-) in the current
# folder (or -artifact_prefix=DIR/); replay it with `$o/fuzz-NAME FILE`.
# LeakSanitizer is on: a leak is a failure. Every target frees
# everything per input and is deterministic (fuzz-imap and fuzz-pop3 as
# far as a socket allows: see tests/fuzz/fuzz-fetch.h).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/out}
mkdir -p "$out/obj"
cd "$top"

CC=${CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CPPFLAGS="-D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" -DG_LOG_DOMAIN=\"mailsift\" -DSYSCONFDIR=\"/etc\" \
  -Iagent -Imessage -Ifilters $(pkg-config --cflags glib-2.0 gio-2.0 gio-unix-2.0 gmime-3.0 sqlite3)"
CFLAGS="-g -O1 $SAN $CPPFLAGS"
LIBS="$(pkg-config --libs glib-2.0 gio-2.0 gio-unix-2.0 gmime-3.0 sqlite3) -lsieve -letpan"

# The library: everything but main(), instrumented for coverage.
lib="$out/libmailsift-fuzz.a"
objs=""
for src in agent/*.c message/*.c filters/*.c; do
  [ "$src" = agent/main.c ] && continue
  obj="$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find agent message filters -name '*.h' -newer "$obj")" ]; then
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objs="$objs $obj"
done
rm -f "$lib"
# shellcheck disable=SC2086
ar rcs "$lib" $objs

targets=""
for t in sieve-script sieve-match header address utf7 imap pop3 config wire; do
  [ -f "tests/fuzz/fuzz-$t.c" ] && targets="$targets $t"
done
for t in $targets; do
  # the fetch targets answer for password_command (see fuzz-fetch.h)
  case $t in imap|pop3) wrap=-Wl,--wrap=ms_account_secret ;; *) wrap= ;; esac
  # shellcheck disable=SC2086
  $CC $CFLAGS -fsanitize=fuzzer $wrap "tests/fuzz/fuzz-$t.c" "$lib" $LIBS -o "$out/fuzz-$t"
done

# ---------------------------------------------------------------- seeds
for t in $targets; do
  mkdir -p "$out/seeds-$t"
  if [ -d "tests/fuzz/seeds/$t" ]; then
    cp tests/fuzz/seeds/"$t"/* "$out/seeds-$t/"
  fi
done
# (the Sieve script target's seeds were always in out/seeds-script)
rm -rf "$out/seeds-script"
mv "$out/seeds-sieve-script" "$out/seeds-script"

# fuzz-sieve-script: every script of the differential and end-to-end
# tests, each followed by a NUL and a message of the differential corpus.
seeds="$out/seeds-script"
i=0
msgs=$(ls tests/diff/messages/*)
for s in tests/diff/cases/*.sieve examples/*.sieve bench/*.sieve; do
  [ -f "$s" ] || continue
  # shellcheck disable=SC2086
  set -- $msgs
  shift $((i % $#))
  { cat "$s"; printf '\0'; head -c 4096 "$1"; } > "$seeds/$(basename "$s").seed"
  i=$((i + 1))
done

# fuzz-header and fuzz-address: the headers of every test message (the
# address target takes each address field's value).
for m in tests/diff/messages/*.eml examples/messages/*.eml; do
  [ -f "$m" ] || continue
  n=$(basename "$m" .eml)
  sed '/^\r\{0,1\}$/q' "$m" | head -c 16384 > "$out/seeds-header/$n"
  j=0
  sed '/^\r\{0,1\}$/q' "$m" | grep -iE '^(from|to|cc|bcc|reply-to|sender|return-path|delivered-to):' \
    | sed 's/^[^:]*:[[:space:]]*//' | while IFS= read -r v; do
      printf '%s' "$v" > "$out/seeds-address/$n-$j"
      j=$((j + 1))
    done
done

# fuzz-utf7: the folder names the tests file into.
grep -hoE 'fileinto( :[a-z]+)* "[^"]+"' tests/diff/cases/*.sieve examples/*.sieve 2>/dev/null \
  | sed 's/.*"\([^"]*\)"$/\1/' | sort -u | while IFS= read -r f; do
    printf '%s' "$f" > "$out/seeds-utf7/$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
  done

# fuzz-config: the example config and the configs of the end-to-end cases.
cp examples/mailsift.conf "$out/seeds-config/example.conf"
for c in tests/cases/*.case; do
  grep -q '^== config' "$c" || continue
  sed -n '/^== config/,/^== /{/^== /!p}' "$c" > "$out/seeds-config/$(basename "$c" .case)"
done

for t in $targets; do
  d=$out/seeds-$t
  [ "$t" = sieve-script ] && d=$out/seeds-script
  printf 'fuzz: %s: %s seeds in %s\n' "fuzz-$t" "$(ls "$d" 2>/dev/null | wc -l)" "$d"
done
echo "fuzz: built in $out"
