#!/usr/bin/python3
"""`mailsift fetch` against a real Dovecot over IMAP (IMAPS, STARTTLS):
delivery byte for byte, nothing fetched twice, every after_delivery mode
(keep, seen, delete, move:FOLDER) applied only after delivery, a 100 MB
message with bounded memory, and SIGKILL at random moments losing and
duplicating nothing. Dovecot runs privately on 127.0.0.1 (tests/servers.py).
Prints TAP."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import (MAILSIFT, Results, Setup as _Setup, crash_run, digest_set, message,  # noqa: E402
                      oversize_case, run_measured)  # noqa: E402

KILLS = int(os.environ.get("FETCH_CRASH_KILLS", "50"))
CRASH_MESSAGES = int(os.environ.get("FETCH_CRASH_MESSAGES", "1000"))
BIG_MB = int(os.environ.get("FETCH_BIG_MB", "100"))
results = Results()
check = results.check


def Setup(dovecot, tmp, **account):
    return _Setup(dovecot, tmp, "imap", **account)


SORT_SCRIPT = """require ["fileinto"];
if header :contains "Subject" "list" { fileinto "S.Lists"; stop; }
if header :contains "Subject" "both" { fileinto "S.Archive"; keep; stop; }
if header :contains "Subject" "junk" { discard; stop; }
fileinto "S.Other";
"""


def sorted_message(i, subject):
    return (f"From: s{i}@example.org\nTo: test@example.org\nSubject: {subject}\n"
            f"Message-ID: <sort{i}@example.org>\n\n" + f"body of {i}\n" * 200).encode()


def body_fetches(dc):
    """BODY[] fetches Dovecot counted, over every IMAP session so far."""
    return sum(int(n) for n in re.findall(r"body_fetches=(\d+)", dc.log_text()))


def server_fileinto_case(dc):
    """fileinto_target = server: Sieve sorts on the server. A message that
    is only filed is moved there without its body being fetched; one that
    is also kept is copied there and fetched; a discarded one stays (after
    delivery = keep) and is not filtered again."""
    listed = [sorted_message(1, "list one"), sorted_message(2, "list two")]
    other, both, junk = sorted_message(3, "hello"), sorted_message(4, "both ways"), sorted_message(5, "junk")
    dc.expunge_all("test")
    dc.fill("test", listed + [other, both, junk])
    with tempfile.TemporaryDirectory(prefix="ms-sort-") as tmp:
        script = os.path.join(tmp, "sort.sieve")
        with open(script, "w") as f:
            f.write(SORT_SCRIPT)
        s = Setup(dc, tmp, fileinto_target="server", script=script)
        before = body_fetches(dc)
        code, out, err = s.fetch()
        time.sleep(0.3)  # Dovecot logs the session's counters as it ends
        fetched_bodies = body_fetches(dc) - before
        same = lambda a, b: digest_set(a) == digest_set(b)  # noqa: E731
        check("fileinto_target = server: filed into S.Lists, S.Other and S.Archive on the server "
              "(folders created); the kept and the discarded one stay in INBOX (after_delivery = keep)",
              code == 0 and same(dc.list("test", "S.Lists"), listed) and same(dc.list("test", "S.Other"), [other])
              and same(dc.list("test", "S.Archive"), [both]) and same(dc.list("test"), [both, junk]),
              f"exit {code}\n{out}{err}")
        check("fileinto_target = server: only the kept message is delivered locally, no local folders",
              same(s.delivered(), [both]) and not any(d.startswith(".") for d in os.listdir(s.maildir)),
              f"{len(s.delivered())} delivered; {os.listdir(s.maildir)}")
        check(f"fileinto_target = server: one message body fetched (the kept one), not the 4 only "
              f"filed or discarded ({fetched_bodies} BODY[] fetches in Dovecot's log)", fetched_bodies == 1,
              dc.log_text()[-1500:])
        code, out, err = s.fetch()
        check("fileinto_target = server: a second fetch changes nothing (the discarded one is not "
              "filtered again)", code == 0 and same(s.delivered(), [both]) and same(dc.list("test"), [both, junk])
              and len(dc.list("test", "S.Lists")) == 2, f"exit {code}\n{out}{err}")
    for folder in ("INBOX", "S.Lists", "S.Other", "S.Archive"):
        dc.expunge_all("test", folder)


BODY_SCRIPT = """require ["fileinto", "body"];
if body :contains "invoice" { fileinto "B.Invoices"; stop; }
if body :contains "keep me" { fileinto "B.Kept"; keep; stop; }
"""


def body_message(i, text):
    return (f"From: b{i}@example.org\nTo: test@example.org\nSubject: number {i}\n"
            f"Message-ID: <body{i}@example.org>\n\n" + f"{text}\n" * 50).encode()


def server_fileinto_body_case(dc):
    """A script with a body test cannot run on a header: with
    fileinto_target = server each message is fetched whole, once (the
    ones also kept are delivered from that copy), and --dry-run fetches
    whole messages too, leaving nothing behind."""
    invoice, kept, plain = body_message(1, "your invoice"), body_message(2, "keep me"), body_message(3, "hi")
    dc.expunge_all("test")
    dc.fill("test", [invoice, kept, plain])
    with tempfile.TemporaryDirectory(prefix="ms-body-") as tmp:
        script = os.path.join(tmp, "body.sieve")
        with open(script, "w") as f:
            f.write(BODY_SCRIPT)
        s = Setup(dc, tmp, fileinto_target="server", script=script)
        p = subprocess.run([MAILSIFT, "fetch", "--dry-run", "-c", s.cfg], capture_output=True, timeout=60)
        out = p.stdout.decode(errors="replace")
        tmpdir = os.path.join(s.maildir, "tmp")
        check("--dry-run with a body test: the script sees the bodies (whole messages fetched), "
              "nothing delivered, nothing left in tmp/",
              p.returncode == 0 and 'fileinto "B.Invoices"' in out and 'fileinto "B.Kept"' in out
              and "error" not in out and s.delivered() == []
              and (not os.path.isdir(tmpdir) or os.listdir(tmpdir) == []),
              out + p.stderr.decode(errors="replace"))
        before = body_fetches(dc)
        code, out, err = s.fetch()
        time.sleep(0.3)  # Dovecot logs the session's counters as it ends
        fetched_bodies = body_fetches(dc) - before
        same = lambda a, b: digest_set(a) == digest_set(b)  # noqa: E731
        check("fileinto_target = server with a body test: filed by body on the server, the kept ones "
              "delivered locally",
              code == 0 and same(dc.list("test", "B.Invoices"), [invoice]) and same(dc.list("test", "B.Kept"), [kept])
              and same(s.delivered(), [kept, plain]) and "error" not in err,
              f"exit {code}\n{out}{err}")
        check(f"fileinto_target = server with a body test: each message fetched whole once, no second "
              f"fetch for the kept ones ({fetched_bodies} BODY[] fetches in Dovecot's log)", fetched_bodies == 3,
              dc.log_text()[-1500:])
    for folder in ("INBOX", "B.Invoices", "B.Kept"):
        dc.expunge_all("test", folder)


def deliver_to_case(dc):
    """deliver_to = imap:ACCOUNT (mailbox migration): mail fetched from one
    account is appended to another account's folders, nothing lands in the
    local Maildir, and the destination account (fetch = no) is not fetched."""
    kept = [sorted_message(11, "hello"), sorted_message(12, "again")]
    work = sorted_message(13, "work report")
    dc.expunge_all("test")
    dc.expunge_all("other")
    dc.fill("test", kept + [work])
    with tempfile.TemporaryDirectory(prefix="ms-move-") as tmp:
        script = os.path.join(tmp, "s.sieve")
        with open(script, "w") as f:
            f.write('require ["fileinto", "imap4flags"];\n'
                    'if header :contains "Subject" "work" { fileinto :flags "\\\\Flagged" "Work"; }\n')
        s = Setup(dc, tmp, script=script, after_delivery="delete", deliver_to="imap:new")
        with open(s.cfg, "a") as f:
            f.write(f"[account new]\nprotocol = imap\nhost = 127.0.0.1\nport = {dc.ports['imaps']}\n"
                    f"tls = implicit\nca_file = {dc.ca_file}\nuser = other\n"
                    f"password_command = {os.path.join(tmp, 'pw2')}\nfetch = no\n")
        with open(os.path.join(tmp, "pw2"), "w") as f:
            f.write("#!/bin/sh\necho secret2\n")
        os.chmod(os.path.join(tmp, "pw2"), 0o700)
        code, out, err = s.fetch()
        same = lambda a, b: digest_set(a) == digest_set(b)  # noqa: E731
        check("deliver_to = imap:new: kept mail appended to the other account's INBOX, filed mail to "
              "its Work folder (created, \\Flagged), source emptied, nothing in the local Maildir",
              code == 0 and same(dc.list("other"), kept) and same(dc.list("other", "Work"), [work])
              and dc.flags("other", "Work") == [{"\\Flagged"}] and dc.list("test") == []
              and s.delivered() == [], f"exit {code}\n{out}{err}\nflags {dc.flags('other', 'Work')}")
        check("fetch = no: the destination account is not fetched", "new:" not in out, out)
        dc.fill("test", [sorted_message(14, "late")])
        code, out, err = s.fetch()
        check("deliver_to = imap:new: the next fetch appends only the new message",
              code == 0 and len(dc.list("other")) == 3 and len(dc.list("other", "Work")) == 1,
              f"exit {code}\n{out}{err}")
    dc.expunge_all("other")
    dc.expunge_all("other", "Work")


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    # count BODY[] fetches per session, to see which messages were downloaded
    settings = {"imap_logout_format": "in=%i out=%o body_fetches=%{fetch_body_count}"}
    with servers.Dovecot(settings=settings) as dc:
        oversize_case(dc, check, Setup, "IMAP")
        server_fileinto_case(dc)
        server_fileinto_body_case(dc)
        deliver_to_case(dc)
        msgs = [message(i) for i in range(5)]

        with tempfile.TemporaryDirectory(prefix="ms-imap-") as tmp:
            dc.fill("test", msgs)
            s = Setup(dc, tmp, after_delivery="delete")
            p = subprocess.run([MAILSIFT, "fetch", "--dry-run", "-c", s.cfg], capture_output=True, timeout=60)
            out = p.stdout.decode(errors="replace")
            check("--dry-run: one line per message with its actions, nothing delivered or deleted",
                  p.returncode == 0 and out.count(" -> keep") == 5 and s.delivered() == []
                  and len(dc.list("test")) == 5 and not any("\\Seen" in f for f in dc.flags("test"))
                  and "looked at, nothing changed" in out, out + p.stderr.decode(errors="replace"))
            s = Setup(dc, tmp)
            code, out, err = s.fetch()
            check("imaps with ca_file: 5 messages delivered byte for byte",
                  code == 0 and digest_set(s.delivered()) == digest_set(msgs), f"exit {code}\n{out}{err}")
            code, out, err = s.fetch()
            check("second fetch: nothing fetched twice", code == 0 and len(s.delivered()) == 5
                  and "test: 0 fetched" in out, f"exit {code}\n{out}{err}")
            flags = dc.flags("test")
            check("after_delivery = keep: still there, not even \\Seen",
                  len(flags) == 5 and not any("\\Seen" in f for f in flags), str(flags))

        with tempfile.TemporaryDirectory(prefix="ms-imap-") as tmp:
            s = Setup(dc, tmp, port=dc.ports["imap"], tls="starttls", after_delivery="seen")
            code, out, err = s.fetch()
            flags = dc.flags("test")
            check("STARTTLS + after_delivery = seen: delivered, then \\Seen on the server",
                  code == 0 and len(s.delivered()) == 5 and len(flags) == 5
                  and all("\\Seen" in f for f in flags), f"exit {code}, flags {flags}\n{out}{err}")

        with tempfile.TemporaryDirectory(prefix="ms-imap-") as tmp:
            s = Setup(dc, tmp, after_delivery="move:Archive")
            code, out, err = s.fetch()
            check("after_delivery = move:Archive (folder created): INBOX empty, Archive has 5",
                  code == 0 and len(s.delivered()) == 5 and dc.list("test") == []
                  and len(dc.list("test", "Archive")) == 5, f"exit {code}\n{out}{err}")

        dc.fill("test", msgs[:3])
        with tempfile.TemporaryDirectory(prefix="ms-imap-") as tmp:
            s = Setup(dc, tmp, after_delivery="delete", folders="INBOX, Archive")
            code, out, err = s.fetch()
            check("after_delivery = delete over two folders: 8 delivered, both folders empty",
                  code == 0 and len(s.delivered()) == 8 and dc.list("test") == []
                  and dc.list("test", "Archive") == [], f"exit {code}\n{out}{err}")

        with tempfile.TemporaryDirectory(prefix="ms-imap-") as tmp:
            dc.fill("test", msgs[:1])
            s = Setup(dc, tmp, ca_file=None)
            code, out, err = s.fetch()
            check("unknown CA refused by default, nothing fetched, fingerprint shown",
                  code == 78 and s.delivered() == [] and dc.fingerprint.lower() in err.lower(),
                  f"exit {code}\n{out}{err}")
            dc.expunge_all("test")

        # the same message in two accounts, dedupe_message_id = yes: delivered once
        dc.expunge_all("test")
        dc.fill("test", msgs[:2])
        dc.fill("other", msgs[1:3])
        with tempfile.TemporaryDirectory(prefix="ms-imap-dd-") as tmp:
            s = Setup(dc, tmp)
            pw2 = os.path.join(tmp, "pw2")
            with open(pw2, "w") as f:
                f.write("#!/bin/sh\necho secret2\n")
            os.chmod(pw2, 0o700)
            text = open(s.cfg).read().replace("[general]", "[general]\ndedupe_message_id = yes")
            text += (f"[account other]\nprotocol = imap\nhost = 127.0.0.1\nport = {dc.ports['imaps']}\n"
                     f"ca_file = {dc.ca_file}\nuser = other\npassword_command = {pw2}\n")
            with open(s.cfg, "w") as f:
                f.write(text)
            code, out, err = s.fetch()
            code2, out2, err2 = s.fetch()
            check("dedupe_message_id: a message in two accounts is delivered once",
                  code == 0 and code2 == 0 and digest_set(s.delivered()) == digest_set(msgs[:3])
                  and "1 duplicates not delivered again" in out, f"exit {code}/{code2}\n{out}{err}{out2}{err2}")
        dc.expunge_all("other")

        # UIDVALIDITY change: the server forgets its UIDs
        dc.expunge_all("test")
        dc.fill("test", msgs[:3])
        with tempfile.TemporaryDirectory(prefix="ms-imap-uv-") as tmp:
            s = Setup(dc, tmp)
            code1, out1, err1 = s.fetch()
            dc.stop()
            inbox = dc.maildir("test")
            for fn in os.listdir(inbox):
                if fn.startswith("dovecot"):
                    os.remove(os.path.join(inbox, fn))
            dc.start()
            dc.fill("test", msgs[3:4])
            code, out, err = s.fetch()
            got = s.delivered()
            check("UIDVALIDITY change: old messages matched by Message-ID, only the new one fetched",
                  code1 == 0 and code == 0 and digest_set(got) == digest_set(msgs[:4])
                  and "UIDVALIDITY of INBOX changed" in err and "3 of 4" in err,
                  f"exit {code1}/{code}, delivered {len(got)}\n{out1}{err1}{out}{err}")
            dc.expunge_all("test")

        # a big message: streamed, bounded memory
        big = b"From: big@example.org\nTo: test@example.org\nSubject: big\n\n" + \
            b"".join(b"%09d abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz\n" % i
                     for i in range(BIG_MB * 1024 * 1024 // 64))
        dc.fill("test", [big])
        with tempfile.TemporaryDirectory(prefix="ms-imap-big-") as tmp:
            s = Setup(dc, tmp, after_delivery="delete")
            code, out, err, rss = run_measured([MAILSIFT, "fetch", "-c", s.cfg])
            got = s.delivered()
            check(f"{len(big) >> 20} MB message: byte for byte, worker peak RSS {rss} KiB (< 16 MiB)",
                  code == 0 and len(got) == 1 and got[0] == big and 0 < rss < 16 * 1024,
                  f"exit {code}, rss {rss}\n{out}{err}")
        del big

        # crash test: SIGKILL at random moments, then a clean run
        many = [message(i, 4000) for i in range(CRASH_MESSAGES)]
        dc.fill("test", many)
        with tempfile.TemporaryDirectory(prefix="ms-imap-crash-") as tmp:
            s = Setup(dc, tmp, after_delivery="delete")
            check(*crash_run(dc, s, many, KILLS, 4321))

    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
