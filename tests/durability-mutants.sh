#!/bin/sh
# Shows that tests/durability.py notices each missing fsync: for every
# fsync call, and every call of a directory fsync helper, in the spool,
# Maildir and queue code (ms_sync_many, in deliver-maildir.c, syncs a
# fetch batch's spool files and its folders), a copy of the built tree gets that one call removed, is
# rebuilt, and the test runs against it. Every site must say FAIL.
# Not part of `make check` (a dozen rebuilds, a few minutes); run it
# by hand in a tree configured and built in place (./configure && make):
#   tests/durability-mutants.sh        (VERBOSE=1: what each run found)
# The test runs once unchanged first, and must pass. The script exits 1
# if a site says PASS, or if the fsync calls in those files are not the
# ones listed here (a new one needs a row below).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
python3=${PYTHON3:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ms-mutants-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# site name | file | anchor (the text the site follows) | call | what replaces it
sites='spool-sync|agent/spool.c|ms_spool_sync (MsSpool|fsync (fd)|0
spool-edited-copy|agent/spool.c|ms_spool_edited_copy (const|fsync (out)|0
maildir-fsync_dir-body|agent/deliver-maildir.c|ms_fsync_dir (const char|fsync (fd)|0
maildir-sync_dir_fd-body|agent/deliver-maildir.c|sync_dir_fd (int fd|fsync (fd)|0
maildir-new-folder|agent/deliver-maildir.c|open_folder (const|sync_dir_fd (fd, dir, error)|TRUE
maildir-new-subfolder-parent|agent/deliver-maildir.c|open_folder (const|sync_dir_fd (pfd, parent, error)|TRUE
maildir-new-root-parent|agent/deliver-maildir.c|open_folder (const|ms_fsync_dir (parent, error)|TRUE
maildir-copy_into|agent/deliver-maildir.c|copy_into (const|fsync (out)|0
maildir-place_in-dir|agent/deliver-maildir.c|place_in (const|sync_dir_fd (sub_fd, sub, error)|TRUE
queue-write_file_durably|agent/queue.c|write_file_durably (const|fsync (fd)|0
queue-write_with_prepend|agent/queue.c|write_with_prepend (const|fsync (fd)|0
queue-dir|agent/queue.c|write_entry_file (const|ms_fsync_dir (dir, error)|TRUE
mkdir-synced-parent|agent/deliver-maildir.c|ms_mkdir_synced (const|ms_fsync_dir (parent, error)|TRUE
sync-many-syncfs|agent/deliver-maildir.c|ms_sync_many (const|syncfs (fd)|0
sync-many-fsync|agent/deliver-maildir.c|ms_sync_many (const|fsync (fd)|0'

# Every fsync-like call and helper call in those files has a row above
# (the count less the definitions of the two helpers).
calls='(^|[^_a-z])(fsync|fdatasync|syncfs|ms_fsync_dir|sync_dir_fd) \('
files='agent/spool.c agent/deliver-maildir.c agent/queue.c agent/pipeline.c'
found=$(cd "$src" && grep -o -E "$calls" $files | wc -l)
if [ $((found - 2)) -ne "$(printf '%s\n' "$sites" | wc -l)" ]; then
  echo "the fsync calls are not the ones listed; add a row for the new one:" >&2
  (cd "$src" && grep -n -E "$calls" $files) >&2
  exit 1
fi

echo "copying the built tree..."
cp -a "$src" "$tmp/tree"
cc=$(sed -n 's/^CC = //p' "$tmp/tree/Makefile")

# The test against the tree, or a mutant of it: PASS, FAIL (with the
# numbers of the checks that failed) or ERROR (no verdict at all).
run_test () {
  out=$(cd "$tmp/tree" && MAILSIFT="$tmp/tree/mailsift" TOP_SRCDIR="$tmp/tree" CC="$cc" \
          "$python3" "$tmp/tree/tests/durability.py" 2>&1) || true
  if printf '%s\n' "$out" | grep -q '^not ok'; then
    echo "FAIL  (not ok: $(printf '%s\n' "$out" | sed -n 's/^not ok \([0-9]*\) .*/\1/p' | tr '\n' ' '))"
    [ -z "${VERBOSE:-}" ] || printf '%s\n' "$out" | grep '^not ok\|^#' | cut -c1-240 >&2
  elif printf '%s\n' "$out" | grep -q '^ok'; then
    echo "PASS"
  else
    echo "ERROR"
    printf '%s\n' "$out" | tail -20 >&2
  fi
}

mutate () {
  "$python3" -c '
import sys
path, anchor, call, new = sys.argv[1:]
text = open(path).read()
at = text.index(call, text.index(anchor))
open(path, "w").write(text[:at] + new + text[at + len(call):])
' "$@"
}

make -C "$tmp/tree" -s mailsift >/dev/null 2>&1
verdict=$(run_test)
echo "unchanged: $verdict"
case "$verdict" in PASS) ;; *) exit 1 ;; esac

status=0
printf '%s\n' "$sites" | {
  while IFS='|' read -r name file anchor call with; do
    mutate "$tmp/tree/$file" "$anchor" "$call" "$with"
    if ! make -C "$tmp/tree" -s mailsift >"$tmp/make.log" 2>&1; then
      echo "$name: does not build"
      cat "$tmp/make.log"
      status=1
    else
      verdict=$(run_test)
      echo "$name ($file: $call): $verdict"
      case "$verdict" in FAIL*) ;; *) status=1 ;; esac
    fi
    cp "$src/$file" "$tmp/tree/$file"
    touch "$tmp/tree/$file"
  done
  exit $status
} || status=1
exit $status
