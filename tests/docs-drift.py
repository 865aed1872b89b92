#!/usr/bin/python3
"""Docs cannot drift: the lists that exist both in code and in the
documentation must agree. Prints TAP.

1. Configuration keys: every key of the table in agent/config-keys.c is
   described in man/mailsift.conf.5, and every key described there exists.
2. Commands: every command agent/main.c lists has a section
   "mailsift NAME" in man/mailsift.1.
3. Sieve extensions: every extension filters/sieve-extensions.c and the
   extension files register appears in the README's "Sieve support"
   table, and every name in that table's first column is registered.
4. Crash points: the steps agent/crash.c knows are the ones the
   README's "Crash points" lists, and no others.
5. Every example script compiles.
"""
import os
import re
import sys

TOP = os.environ.get("TOP_SRCDIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def config_keys():
    src = read("agent/config-keys.c")
    keys = set()
    for m in re.finditer(r'^\s*(KEY|CHOICE)\s*\(\s*"\w+",\s*"(\w+)"', src, re.M):
        keys.add(m.group(2))
    for m in re.finditer(r'^\s*(ACCT|SMTP|ACCT_CHOICE|SMTP_CHOICE|ACCT_CHOICE_ARG)\s*\(\s*"(\w+)"', src, re.M):
        keys.add(m.group(2))
    return keys


def man_keys():
    return set(re.findall(r'^\.BR? (\w+) "', read("man/mailsift.conf.5"), re.M))


def commands():
    src = read("agent/main.c")
    table = src[src.index("} commands[]"):] if "} commands[]" in src else src
    return set(re.findall(r'\{\s*"([a-z]+)",\s*ms_cmd_', table))


def man_commands():
    return set(re.findall(r'^\.SS "mailsift (\w+)"', read("man/mailsift.1"), re.M))


def extensions():
    names = set()
    for f in os.listdir(os.path.join(TOP, "filters")):
        if f.startswith("sieve-") and f.endswith(".c"):
            for m in re.finditer(r'const MsSvExtension \w+ = \{\s*"([^"]+)"', read("filters/" + f)):
                if m.group(1):
                    names.add(m.group(1))
    return names


def readme_extensions():
    text = read("README")
    sec = text[text.index("Sieve support\n-------------"):]
    sec = sec[:sec.index("\n\n", sec.index("| extension | RFC |"))]
    names = set()
    for line in sec.splitlines()[2:]:
        if not line.startswith("| "):
            continue
        first = line.split("|")[1]
        if first.strip().startswith("base language") or first.strip() == "extension":
            continue
        for n in first.split(","):
            n = re.sub(r"\(.*\)", "", n).strip()
            if n:
                names.add(n)
    return names


def crash_steps():
    src = read("agent/crash.c")
    table = src[src.index("steps[] = {"):]
    return set(re.findall(r'^\s*"([a-z0-9-]+)",', table[:table.index("NULL")], re.M))


def readme_crash_steps():
    text = read("README")
    sec = text[text.index("\nCrash points. "):]
    sec = sec[:sec.index("\n\n", sec.index("\n\n") + 2)]
    return set(re.findall(r"^  ([a-z0-9-]+)  ", sec, re.M))


checks = []


def compare(what, code, doc, code_name, doc_name):
    missing = sorted(code - doc)
    extra = sorted(doc - code)
    checks.append((not missing, "%s: every one in %s is in %s" % (what, code_name, doc_name), missing))
    checks.append((not extra, "%s: every one in %s exists in %s" % (what, doc_name, code_name), extra))


compare("config keys", config_keys(), man_keys(), "agent/config-keys.c", "man/mailsift.conf.5")
cmds = commands()
# filter-worker is internal; its absence from the man page is right
compare("commands", cmds - {"filter"}, man_commands(), "agent/main.c", "man/mailsift.1")
# comparator extensions are named in the relational row
exts = {e for e in extensions() if not e.startswith("comparator-i;") or e == "comparator-i;ascii-numeric"}
compare("Sieve extensions", exts, readme_extensions(), "filters/", "README")
compare("crash points", crash_steps(), readme_crash_steps(), "agent/crash.c", "README")

# 5. The example scripts compile with the default engine.

import subprocess
exe = os.environ.get("MAILSIFT") or os.path.join(TOP, "mailsift")
examples = sorted(f for f in os.listdir(os.path.join(TOP, "examples")) if f.endswith(".sieve"))
for f in examples:
    p = subprocess.run([exe, "check", os.path.join(TOP, "examples", f)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=60,
                       env=dict(os.environ, HOME="/nonexistent"))
    out = p.stdout.decode("utf-8", "replace").splitlines()
    checks.append((p.returncode == 0, "examples/%s compiles" % f, out if p.returncode else []))

print("1..%d" % len(checks))
failed = 0
for i, (ok, name, items) in enumerate(checks, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        failed += 1
        for it in items:
            print("# %s" % it)
sys.exit(1 if failed else 0)
