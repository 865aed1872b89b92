#!/usr/bin/python3
"""Sieve engine benchmark: mailsift's own engine next to Pigeonhole's
sieve-filter, on the same script and the same messages.

The messages are the fetch benchmark's (bench/genmail.py: 2,000 of
10-20 KB, the same bytes every time); the script is bench/rules50.sieve.

  - mailsift engine: bench/sieve-bench runs the compiled script on each
    message's header, already in memory (ms_sv_execute: the header view,
    the tests, the actions), best of R rounds;
  - mailsift filter step: the same messages through the filter step of
    `mailsift fetch` (ms_pipeline_plan with the default configuration:
    a GVariant frame to the filter process, `mailsift filter-worker`,
    and one back, over pipes, then the delivery policy), best of R;
  - a bare round trip over a pipe pair (a byte each way to a forked
    process): what the filter step cannot go below on the machine;
  - Pigeonhole: sieve-filter (dovecot-sieve) without -e, so that it only
    simulates, on a Maildir holding the messages, in a private Dovecot
    configuration in a temporary directory (nothing from /etc/dovecot).
    It runs on all the messages and on one, best of R each; the
    difference over N - 1 messages is its cost per message without its
    start-up. It reads each message from the Maildir; mailsift's engine
    figure has the header in memory already.

Both sort every message (folder and flags) and the report says for how
many they agree. sieve-filter takes the envelope from the header
(Return-Path, Sender or From; Envelope-To or To) and the size from the
stored file; bench/sieve-bench does the same.

    SIEVE_BENCH=bench/sieve-bench MAILSIFT=./mailsift \\
        bench/sieve-bench.py [--messages N] [--rounds R] [--keep DIR]

Run by `make bench`; not part of `make check`.
"""
import argparse
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR") or os.path.dirname(HERE)
sys.path.insert(0, HERE)

import genmail  # noqa: E402

DOVECOT_CONF = """\
# Written by bench/sieve-bench.py; nothing is read from /etc/dovecot.
base_dir = "{top}/run"
state_dir = "{top}/state"
log_path = /dev/stderr
info_log_path = /dev/stderr
debug_log_path = /dev/stderr
mail_location = "maildir:{maildir}"
{uid_settings}
"""


class Pigeonhole:
    """sieve-filter in a private configuration under @top, on a Maildir
    of the messages and on one of the first message only."""

    def __init__(self, exe, top, script, messages):
        self.exe = exe
        self.top = top
        self.owner = None
        uid_settings = ""
        if os.geteuid() == 0:
            # Dovecot refuses to run mail processes as root
            try:
                pw = pwd.getpwnam("nobody")
                self.owner = (pw.pw_uid, pw.pw_gid)
            except KeyError:
                self.owner = (65534, 65534)
            uid_settings = "mail_uid = %d\nmail_gid = %d\n" % self.owner
        for d in ("run", "state"):
            os.makedirs(os.path.join(top, d))
        # a copy: sieve-filter writes the compiled script next to it
        self.script = os.path.join(top, "script.sieve")
        shutil.copyfile(script, self.script)
        self.confs = {}
        for name, msgs in (("all", messages), ("one", messages[:1])):
            maildir = os.path.join(top, "mail-" + name)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(maildir, sub))
            for i, (_, data) in enumerate(msgs):
                # Dovecot numbers new files in the order of the time in
                # their names: the output comes in the messages' order
                path = os.path.join(maildir, "cur", "%d.M%dP1.bench:2," % (1700000000 + i, i))
                with open(path, "wb") as f:
                    f.write(data)
            conf = os.path.join(top, "dovecot-%s.conf" % name)
            with open(conf, "w") as f:
                f.write(DOVECOT_CONF.format(top=top, maildir=maildir, uid_settings=uid_settings))
            self.confs[name] = conf
        if self.owner is not None:
            for root, dirs, files in os.walk(top):
                os.chown(root, *self.owner)
                for n in files:
                    os.chown(os.path.join(root, n), *self.owner)

    def run(self, which):
        """(seconds, stdout) of one run on "all" or "one"."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.top, "LANG": "C.UTF-8",
               "TZ": "UTC"}
        t0 = time.monotonic()
        p = subprocess.run([self.exe, "-c", self.confs[which], self.script, "INBOX"], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        elapsed = time.monotonic() - t0
        if p.returncode != 0 or b">> Filtering message:" not in p.stdout:
            raise RuntimeError("sieve-filter exited %d:\n%s" % (p.returncode,
                                                               p.stderr.decode("utf-8", "replace")))
        return elapsed, p.stdout.decode("utf-8", "replace")


def pigeonhole_sorting(out):
    """Per message, in order: sorted (folder, flags) pairs it stores to."""
    result = []
    for block in out.split(">> Filtering message:")[1:]:
        mid = re.search(r"^  ID:\s+(.*)$", block, re.M).group(1).strip()
        stores, cur = [], None
        for line in block.splitlines():
            m = re.match(r"\s+\* store message in folder: (.*)$", line)
            if m:
                cur = (m.group(1), set())
                stores.append(cur)
                continue
            m = re.match(r"\s+\+ add IMAP flags: (.*)$", line)
            if m and cur is not None:
                cur[1].update(f.lower() for f in m.group(1).split())
        result.append((mid, sorted((f, tuple(sorted(fl))) for f, fl in stores)))
    return result


def mailsift_sorting(line):
    """The same from one line of sieve-bench -a."""
    stores = []
    for action in line.split("; "):
        m = re.match(r'(keep|fileinto "((?:[^"\\]|\\.)*)")(?: flags=(.*))?$', action)
        if not m:
            stores.append(("(" + action + ")", ()))
            continue
        folder = "INBOX" if m.group(1) == "keep" else m.group(2)
        flags = tuple(sorted(f.lower() for f in (m.group(3) or "").split(",") if f))
        stores.append((folder, flags))
    return sorted(stores)


def message_id(data):
    header = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    m = re.search(r"^Message-ID:[ \t]*(.*)$", header, re.M | re.I)
    return m.group(1).strip() if m else "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--script", default=os.path.join(TOP, "bench", "rules50.sieve"))
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and leave it there")
    args = ap.parse_args()

    bench = os.environ.get("SIEVE_BENCH") or os.path.join(os.getcwd(), "bench", "sieve-bench")
    mailsift = os.environ.get("MAILSIFT") or os.path.join(os.getcwd(), "mailsift")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work = args.keep
    else:
        work = tempfile.mkdtemp(prefix="mailsift-sieve-bench.")
        # as root, sieve-filter runs as nobody, who must reach its files
        os.chmod(work, 0o755)
    try:
        return run(args, bench, mailsift, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args, bench, mailsift, work):
    msgdir = os.path.join(work, "messages")
    os.makedirs(msgdir, exist_ok=True)
    messages = [("%04d.eml" % i, data) for i, data in enumerate(genmail.messages(args.messages))]
    for name, data in messages:
        with open(os.path.join(msgdir, name), "wb") as f:
            f.write(data)
    n = len(messages)

    actions = os.path.join(work, "mailsift-actions.txt")
    p = subprocess.run([bench, "-a", actions, "-f", mailsift, args.script, msgdir, str(args.rounds)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        sys.stderr.write("sieve-bench.py: %s failed:\n%s%s" % (bench, p.stdout, p.stderr))
        return 1
    engine = float(re.search(r"^engine ([\d.]+) us/message", p.stdout, re.M).group(1))
    step = float(re.search(r"^filter step ([\d.]+) us/message", p.stdout, re.M).group(1))
    with open(actions) as f:
        ours = dict(line.rstrip("\n").split("\t", 1) for line in f)

    print("Sieve engine: %s on %d messages (bench/genmail.py), best of %d rounds"
          % (os.path.relpath(args.script, TOP), n, args.rounds))
    print("  mailsift engine           %8.2f us/message  (header in memory: view, tests, actions)"
          % engine)
    floor = float(re.search(r"^pipe round trip ([\d.-]+) us", p.stdout, re.M).group(1))
    print("  mailsift filter step      %8.2f us/message  (fetch's: round trip to the filter process)"
          % step)
    print("  bare pipe round trip      %8.2f us          (a byte each way: the least a round trip takes here)"
          % floor)

    exe = shutil.which("sieve-filter")
    if exe is None:
        print("  Pigeonhole sieve-filter   not installed (dovecot-sieve)")
        return 0
    ph = Pigeonhole(exe, os.path.join(work, "pigeonhole"), args.script, messages)
    try:
        # untimed: Dovecot builds its index, sieve-filter compiles the script
        _, out = ph.run("all")
        ph.run("one")
        best_all = min(ph.run("all")[0] for _ in range(args.rounds))
        best_one = min(ph.run("one")[0] for _ in range(args.rounds))
    except RuntimeError as e:
        print("  Pigeonhole sieve-filter   failed: %s" % e)
        return 1
    pigeonhole = (best_all - best_one) / max(n - 1, 1) * 1e6
    print("  Pigeonhole sieve-filter   %8.2f us/message  (%d messages %.3f s, 1 message %.3f s)"
          % (pigeonhole, n, best_all, best_one))
    print("  Pigeonhole / mailsift engine: %.1fx; Pigeonhole / mailsift filter step: %.1fx"
          % (pigeonhole / engine, pigeonhole / step))

    theirs = pigeonhole_sorting(out)
    if len(theirs) != n:
        print("  sorting: sieve-filter reported %d messages, not %d" % (len(theirs), n))
        return 1
    same, differ = 0, []
    for (name, data), (mid, stores) in zip(messages, theirs):
        if mid != "none" and mid != message_id(data):
            print("  sorting: sieve-filter's messages are not in file order (%s is %s); not compared"
                  % (name, mid))
            return 1
        mine = mailsift_sorting(ours.get(name, ""))
        if mine == stores:
            same += 1
        else:
            differ.append((name, mine, stores))
    print("  sorting (folders and flags): the same for %d of %d messages" % (same, n))
    for name, mine, stores in differ[:10]:
        print("    %s: mailsift %s, Pigeonhole %s" % (name, mine, stores))
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
