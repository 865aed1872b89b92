#!/usr/bin/python3
"""The state store is not held while a fetch filters: with a script that
takes filter_timeout for every message, `mailsift deliver` (which queues
a redirect, so it needs a write transaction) and `mailsift status` run
while the fetch is in the middle of its batch, and succeed at once. Then
the fetch itself finishes with every message delivered once, and the
redirect is in the queue. A vacation answer queued in a batch counts
for the batch's later messages before the batch commits. Uses the private Dovecot of tests/servers.py.
Prints TAP."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results, Setup, digest_set, message  # noqa: E402

# The store's writers wait up to 10 s for its lock; the slow batch must
# outlast that to show a lock held across filtering.
MESSAGES = 16
FILTER_TIMEOUT = 1

results = Results()
check = results.check


def descendants(pid):
    """The pids of @pid's child processes, theirs, and so on."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = set(f.read().split())
    except OSError:
        return set()
    for kid in list(kids):
        kids |= descendants(kid)
    return kids


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    msgs = [message(i, 600) for i in range(MESSAGES)]
    with servers.Dovecot() as dc, tempfile.TemporaryDirectory(prefix="ms-statelock-") as tmp:
        dc.expunge_all("test")
        dc.fill("test", msgs)
        # A script that never finishes: reading it blocks (a FIFO nobody
        # writes), so each message takes filter_timeout and is kept.
        slow = os.path.join(tmp, "slow.sieve")
        os.mkfifo(slow)
        s = Setup(dc, tmp, "pop3", after_delivery="delete")
        with open(s.cfg) as f:
            text = f.read()
        with open(s.cfg, "w") as f:
            f.write(text.replace("[general]\n", f"[general]\nscript = {slow}\n"
                                 f"filter_timeout = {FILTER_TIMEOUT}\n"
                                 "addresses = me@example.org\n", 1))
        redirect = os.path.join(tmp, "redirect.sieve")
        with open(redirect, "w") as f:
            f.write('redirect "bob@example.net";\nkeep;\n')

        new = os.path.join(s.maildir, "new")
        started = time.monotonic()
        fetch = subprocess.Popen([MAILSIFT, "fetch", "-c", s.cfg], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        # inside the batch: new filter processes have replaced the ones
        # that ran out of time (each message takes one), and not every
        # message is in the Maildir yet
        workers = set()
        while time.monotonic() - started < 60 and fetch.poll() is None and len(workers) < 4:
            workers |= descendants(fetch.pid)
            time.sleep(0.05)
        delivered = len(os.listdir(new)) if os.path.isdir(new) else 0
        in_batch = fetch.poll() is None and len(workers) >= 4 and delivered < MESSAGES

        local = (b"Return-Path: <carol@example.org>\nFrom: carol@example.org\nTo: me@example.org\n"
                 b"Subject: local while fetching\nMessage-ID: <local-1@example.org>\n\nhello\n")
        t0 = time.monotonic()
        deliver = subprocess.Popen([MAILSIFT, "deliver", "-c", s.cfg, "--script", redirect],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        status = subprocess.Popen([MAILSIFT, "status", "-c", s.cfg], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        d_out, d_err = deliver.communicate(local, timeout=60)
        d_secs = time.monotonic() - t0
        st_out, st_err = status.communicate(timeout=60)
        st_secs = time.monotonic() - t0
        still_fetching = fetch.poll() is None

        check("the fetch was inside its batch, filtering, when deliver and status started",
              in_batch and still_fetching,
              f"in batch {in_batch}, still fetching {still_fetching}, {len(workers)} filter "
              f"processes seen in {time.monotonic() - started:.1f} s, "
              f"{len(os.listdir(new)) if os.path.isdir(new) else 0} delivered")
        check(f"deliver (redirect + keep) during the slow fetch: exit 0 in {d_secs:.1f} s",
              deliver.returncode == 0 and d_secs < 5,
              f"exit {deliver.returncode} after {d_secs:.1f} s\n{d_err.decode(errors='replace')}")
        check(f"status during the slow fetch: exit 0 in {st_secs:.1f} s",
              status.returncode == 0 and st_secs < 5 and b"test (pop3" in st_out,
              f"exit {status.returncode} after {st_secs:.1f} s\n{st_out.decode(errors='replace')}"
              f"{st_err.decode(errors='replace')}")

        f_out, f_err = fetch.communicate(timeout=MESSAGES * (FILTER_TIMEOUT + 3) + 60)
        got = [m for m in s.delivered() if b"local while fetching" not in m]
        check(f"the fetch then delivers all {MESSAGES} once and deletes them on the server",
              fetch.returncode == 0 and digest_set(got) == digest_set(msgs) and dc.list("test") == [],
              f"exit {fetch.returncode}, delivered {len(got)}, left {len(dc.list('test'))}\n"
              f"{f_out.decode(errors='replace')}{f_err.decode(errors='replace')[-3000:]}")
        mine = [m for m in s.delivered() if b"local while fetching" in m]
        con = sqlite3.connect(os.path.join(tmp, "state", "state.db"))
        queued = [r[0] for r in con.execute("SELECT recipients FROM queue WHERE reason = 'redirect'")]
        con.close()
        check("the delivered message is kept once and its redirect queued",
              len(mine) == 1 and queued == ["bob@example.net"], f"kept {len(mine)}, queue {queued}")

    # A batch's writes wait for its commit; a vacation answer queued for
    # an earlier message of the batch still counts for the later ones.
    with servers.Dovecot() as dc, tempfile.TemporaryDirectory(prefix="ms-statelock-") as tmp:
        def from_alice(i):
            return (f"Return-Path: <alice@example.org>\nFrom: alice@example.org\nTo: test@example.org\n"
                    f"Subject: question {i}\nMessage-ID: <q{i}@example.org>\n\nhello {i}\n").encode()
        dc.expunge_all("test")
        dc.fill("test", [from_alice(i) for i in range(3)])
        vacation = os.path.join(tmp, "vacation.sieve")
        with open(vacation, "w") as f:
            f.write('require "vacation";\nvacation :days 1 :subject "Away" "I am away.";\n')
        s = Setup(dc, tmp, "pop3", after_delivery="delete", script=vacation)
        with open(s.cfg) as f:
            text = f.read()
        with open(s.cfg, "w") as f:
            f.write(text.replace("[general]\n", "[general]\naddresses = test@example.org\n", 1))
        code, out, err = s.fetch()
        dc.fill("test", [from_alice(3)])
        code2, out2, err2 = s.fetch()
        con = sqlite3.connect(os.path.join(tmp, "state", "state.db"))
        answers = [r[0] for r in con.execute("SELECT recipients FROM queue WHERE reason = 'vacation'")]
        con.close()
        check("vacation: three messages from one sender in one batch, then one more: one answer",
              code == 0 and code2 == 0 and len(s.delivered()) == 4 and answers == ["alice@example.org"],
              f"exit {code}/{code2}, delivered {len(s.delivered())}, answers {answers}\n{out}{err}{out2}{err2}")
    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
