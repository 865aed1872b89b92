#!/usr/bin/python3
"""Copies made on a server are made once: `mailsift fetch` against a real
Dovecot (tests/servers.py) where a later step of the delivery fails for five
runs, then works. After the sixth run every message is in each target
folder exactly once, not once per run:

  1. fileinto_target = server, the message also kept: the UID COPY is made,
     then local delivery fails (the Maildir's new/ is not a folder)
  2. fileinto_target = server, the message filed into two folders: the
     first UID COPY is made, the second one is refused by the server
  3. deliver_to = imap:ACCOUNT, keep and fileinto: the APPEND to INBOX is
     made, the APPEND to the other folder is refused by the server

  4. deliver_to = imap:ACCOUNT keeps the INTERNALDATE of each message,
     and streams a 30 MB message into its APPEND (bounded memory)

  5. deliver_to = imap:ACCOUNT killed with SIGKILL at random moments, then
     run once more: every message is in the destination at least once,
     with at most one extra copy per kill, and the source is empty

The server refuses a folder because its Maildir directory is made
unreadable for the Dovecot mail user. Prints TAP."""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results, Setup, digest_set, run_measured, wait_gone  # noqa: E402

FAILING_RUNS = 5
results = Results()
check = results.check


def msg(i, subject):
    return (f"From: c{i}@example.org\nTo: test@example.org\nSubject: {subject} {i}\n"
            f"Message-ID: <copies{i}@example.org>\n\n" + f"body of message {i}\n" * 40).encode()


def write_script(tmp, text):
    path = os.path.join(tmp, "copies.sieve")
    with open(path, "w") as f:
        f.write(text)
    return path


def counts(dc, user, folder, msgs):
    """How many copies of each of @msgs the folder holds."""
    have = digest_set(dc.list(user, folder))
    return [have.count(d) for d in (digest_set([m])[0] for m in msgs)]


class Locked:
    """A server folder whose Maildir directory the Dovecot mail user cannot
    open while inside the with block: COPY and APPEND to it are refused."""

    def __init__(self, dc, user, folder):
        dc.doveadm("mailbox", "create", "-u", user, folder)
        self.path = dc.maildir(user, folder)
        self.owner = os.stat(self.path)

    def __enter__(self):
        if os.geteuid() == 0:
            # Dovecot's mail processes run as nobody: root's own folder
            os.chown(self.path, 0, 0)
            os.chmod(self.path, 0o700)
        else:
            os.chmod(self.path, 0)
        return self

    def __exit__(self, *exc):
        os.chown(self.path, self.owner.st_uid, self.owner.st_gid)
        os.chmod(self.path, self.owner.st_mode & 0o7777)


def failing_then_good(s, fail_context):
    """FAILING_RUNS fetches inside @fail_context, then one outside.
    Returns (failing exit codes, last run's (code, out, err))."""
    codes = []
    with fail_context:
        for _ in range(FAILING_RUNS):
            code, out, err = s.fetch()
            codes.append((code, err))
    return codes, s.fetch()


class BrokenMaildir:
    """Local delivery fails: the Maildir's new/ is a file, not a folder."""

    def __init__(self, maildir):
        self.new = os.path.join(maildir, "new")

    def __enter__(self):
        os.makedirs(os.path.join(os.path.dirname(self.new), "tmp"), exist_ok=True)
        if os.path.isdir(self.new):
            shutil.rmtree(self.new)
        with open(self.new, "w") as f:
            f.write("not a folder\n")
        return self

    def __exit__(self, *exc):
        os.unlink(self.new)
        os.mkdir(self.new, 0o700)


def case_copy_then_local_fails(dc):
    msgs = [msg(i, "kept and filed") for i in range(1, 4)]
    dc.expunge_all("test")
    dc.fill("test", msgs)
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        script = write_script(tmp, 'require "fileinto";\nfileinto "Filed";\nkeep;\n')
        s = Setup(dc, tmp, "imap", fileinto_target="server", script=script, after_delivery="delete")
        fails, (code, out, err) = failing_then_good(s, BrokenMaildir(s.maildir))
        filed = counts(dc, "test", "Filed", msgs)
        check(f"fileinto_target = server, local delivery failing for {FAILING_RUNS} runs: every "
              f"failing run says so and leaves the messages on the server",
              all(c != 0 for c, _ in fails), "\n".join(f"exit {c}\n{e[-800:]}" for c, e in fails))
        check(f"fileinto_target = server: after {FAILING_RUNS} failing runs and a good one, each "
              f"message is in the server folder once (copies per message: {filed})",
              filed == [1, 1, 1], f"exit {code}\n{out}{err}")
        check("fileinto_target = server: the good run delivers each message here once and empties "
              "the INBOX", code == 0 and digest_set(s.delivered()) == digest_set(msgs)
              and dc.list("test") == [], f"exit {code}, {len(s.delivered())} delivered\n{out}{err}")
        code, out, err = s.fetch()
        check("fileinto_target = server: the next run copies nothing again",
              code == 0 and counts(dc, "test", "Filed", msgs) == [1, 1, 1], f"exit {code}\n{out}{err}")
    for folder in ("INBOX", "Filed"):
        dc.expunge_all("test", folder)


def case_second_copy_refused(dc):
    msgs = [msg(i, "filed twice") for i in range(11, 14)]
    dc.expunge_all("test")
    dc.fill("test", msgs)
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        script = write_script(tmp, 'require "fileinto";\nfileinto "First";\nfileinto "Second";\n')
        s = Setup(dc, tmp, "imap", fileinto_target="server", script=script, after_delivery="delete")
        dc.doveadm("mailbox", "create", "-u", "test", "First")
        fails, (code, out, err) = failing_then_good(s, Locked(dc, "test", "Second"))
        first, second = counts(dc, "test", "First", msgs), counts(dc, "test", "Second", msgs)
        check(f"fileinto_target = server, the second UID COPY refused for {FAILING_RUNS} runs: "
              f"every failing run reports it",
              all(c != 0 and re.search(r"UID (COPY|MOVE) failed", e) for c, e in fails),
              "\n".join(f"exit {c}\n{e[-800:]}" for c, e in fails))
        check(f"fileinto_target = server: after {FAILING_RUNS} failing runs and a good one, each "
              f"message is in both folders once (First: {first}, Second: {second})",
              code == 0 and first == [1, 1, 1] and second == [1, 1, 1] and dc.list("test") == [],
              f"exit {code}\n{out}{err}")
    for folder in ("INBOX", "First", "Second"):
        dc.expunge_all("test", folder)


def add_destination(s, dc, tmp):
    """[account new]: the other Dovecot user, fetch = no."""
    pw2 = os.path.join(tmp, "pw2")
    with open(pw2, "w") as f:
        f.write("#!/bin/sh\necho secret2\n")
    os.chmod(pw2, 0o700)
    with open(s.cfg, "a") as f:
        f.write(f"[account new]\nprotocol = imap\nhost = 127.0.0.1\nport = {dc.ports['imaps']}\n"
                f"tls = implicit\nca_file = {dc.ca_file}\nuser = other\n"
                f"password_command = {pw2}\nfetch = no\n")


def case_second_append_refused(dc):
    msgs = [msg(i, "appended") for i in range(21, 24)]
    dc.expunge_all("test")
    dc.expunge_all("other")
    dc.fill("test", msgs)
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        script = write_script(tmp, 'require "fileinto";\nkeep;\nfileinto "Archive";\n')
        s = Setup(dc, tmp, "imap", script=script, after_delivery="delete", deliver_to="imap:new")
        add_destination(s, dc, tmp)
        fails, (code, out, err) = failing_then_good(s, Locked(dc, "other", "Archive"))
        inbox, archive = counts(dc, "other", "INBOX", msgs), counts(dc, "other", "Archive", msgs)
        check(f"deliver_to = imap:, the second APPEND refused for {FAILING_RUNS} runs: every "
              f"failing run reports it", all(c != 0 and "APPEND" in e for c, e in fails),
              "\n".join(f"exit {c}\n{e[-800:]}" for c, e in fails))
        check(f"deliver_to = imap:: after {FAILING_RUNS} failing runs and a good one, each message "
              f"is in the destination's INBOX and Archive once (INBOX: {inbox}, Archive: {archive})",
              code == 0 and inbox == [1, 1, 1] and archive == [1, 1, 1] and dc.list("test") == [],
              f"exit {code}\n{out}{err}")
    dc.expunge_all("other")
    dc.expunge_all("other", "Archive")


def case_append_keeps_date(dc):
    """deliver_to = imap: the copy keeps the date the source server
    received the message (its INTERNALDATE), not the day it was copied."""
    msgs = [msg(i, "dated") for i in range(40, 42)]
    when = [1577934245, 1262304000]  # 2020-01-02 03:04:05, 2010-01-01 00:00:00 UTC
    dc.expunge_all("test")
    dc.expunge_all("other")
    new = os.path.join(dc.maildir("test"), "new")
    for i, (m, t) in enumerate(zip(msgs, when)):
        path = os.path.join(new, f"{t}.M{i}P{os.getpid()}.dated")
        with open(path, "wb") as f:
            f.write(m)
        if dc.root:
            os.chown(path, dc.mail_uid, dc.mail_gid)
        os.utime(path, (t, t))  # Dovecot takes a Maildir file's mtime as its INTERNALDATE
    dc.doveadm("force-resync", "-u", "test", "INBOX")
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        s = Setup(dc, tmp, "imap", after_delivery="delete", deliver_to="imap:new")
        add_destination(s, dc, tmp)
        code, out, err = s.fetch()
        got = dc.doveadm("fetch", "-u", "other", "date.received", "mailbox", "INBOX", "all").decode()
        dates = sorted(re.findall(r"date.received: (\S+ \S+)", got))
        want = sorted(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) for t in when)
        check("deliver_to = imap: each copy keeps the INTERNALDATE the source gave it",
              code == 0 and dates == want, f"exit {code}, dates {dates}, want {want}\n{out}{err}")
    dc.expunge_all("other")


def case_append_big(dc, mb=30):
    """deliver_to = imap: a big message is streamed from its spool file
    into the APPEND, not held in memory (it was, twice: the file's text
    and its CRLF copy)."""
    big = b"From: big@example.org\nTo: test@example.org\nSubject: big append\n\n" + \
        b"".join(b"%09d abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz\n" % i
                 for i in range(mb * 1024 * 1024 // 64))
    dc.expunge_all("test")
    dc.expunge_all("other")
    dc.fill("test", [big])
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        s = Setup(dc, tmp, "imap", after_delivery="delete", deliver_to="imap:new")
        add_destination(s, dc, tmp)
        code, out, err, rss = run_measured([MAILSIFT, "fetch", "-c", s.cfg])
        got = counts(dc, "other", "INBOX", [big])
        check(f"deliver_to = imap: a {mb} MB message arrives whole, the worker's peak RSS "
              f"{rss} KiB (< 16 MiB)", code == 0 and got == [1] and 0 < rss < 16 * 1024,
              f"exit {code}, copies {got}, rss {rss}\n{out}{err}")
    dc.expunge_all("other")


def case_append_killed(dc, count=150, kills=8):
    msgs = [msg(i, "killed") for i in range(100, 100 + count)]
    dc.expunge_all("test")
    dc.expunge_all("other")
    dc.fill("test", msgs)
    rng = random.Random(1107)
    with tempfile.TemporaryDirectory(prefix="ms-copies-") as tmp:
        s = Setup(dc, tmp, "imap", after_delivery="delete", deliver_to="imap:new")
        add_destination(s, dc, tmp)
        done = 0
        for _ in range(kills):
            p = subprocess.Popen([MAILSIFT, "fetch", "-c", s.cfg], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.15))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                done += 1
            p.wait()
        wait_gone(s.cfg)
        code, out, err = s.fetch()
        inbox = counts(dc, "other", "INBOX", msgs)
        extra = sum(inbox) - count
        check(f"deliver_to = imap: with {done} SIGKILLs: every message in the destination, at most "
              f"one extra copy per kill ({extra} extra), the source empty",
              code == 0 and min(inbox) >= 1 and extra <= done and dc.list("test") == [],
              f"exit {code}, copies {inbox}\n{out}{err[-1500:]}")
    dc.expunge_all("other")


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.Dovecot() as dc:
        for case in (case_copy_then_local_fails, case_second_copy_refused, case_second_append_refused,
                     case_append_keeps_date, case_append_big, case_append_killed):
            try:
                case(dc)
            except Exception:  # noqa: BLE001
                check(f"{case.__name__}: the test itself failed", False, traceback.format_exc())
    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
