#!/bin/sh
# dist-files.sh SRCDIR DISTDIR - `make distcheck` runs this on the unpacked
# tarball (distcheck-hook). In a git checkout the tarball must hold
# exactly the files git tracks, less .ci/ and .gitignore, plus what
# autoreconf generates (configure, aclocal.m4, Makefile.in, build-aux/):
# a file missing from EXTRA_DIST fails, and so does anything the build or
# the tests left in a directory that EXTRA_DIST names whole. Outside a git
# checkout (building from a tarball) there is nothing to compare with.
set -eu
src=$1
dist=$2
if ! command -v git >/dev/null 2>&1 \
   || [ "$(git -C "$src" rev-parse --show-prefix 2>/dev/null || echo no)" != "" ]; then
  echo "dist-files: $src is not the top of a git checkout; not compared"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$src" ls-files | grep -v -e '^\.ci/' -e '^\.gitignore$' | LC_ALL=C sort >"$tmp/want"
(cd "$dist" && find . -type f | sed 's|^\./||') \
  | grep -v -x -e configure -e aclocal.m4 -e Makefile.in -e 'build-aux/[^/]*' \
  | LC_ALL=C sort >"$tmp/have"
if ! cmp -s "$tmp/want" "$tmp/have"; then
  echo "dist-files: the tarball differs from git ls-files (add files to EXTRA_DIST in Makefile.am," >&2
  echo "dist-files: or remove what does not belong in the tree):" >&2
  LC_ALL=C comm -23 "$tmp/want" "$tmp/have" | sed 's/^/  missing from the tarball: /' >&2
  LC_ALL=C comm -13 "$tmp/want" "$tmp/have" | sed 's/^/  not tracked by git:      /' >&2
  exit 1
fi
echo "dist-files: the tarball holds the $(wc -l <"$tmp/have") files git tracks"
