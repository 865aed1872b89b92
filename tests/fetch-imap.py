#!/usr/bin/python3
"""`mailsift fetch` against a real Dovecot over IMAP (IMAPS, STARTTLS):
delivery byte for byte, nothing fetched twice, every after_delivery mode
(keep, seen, delete, move:FOLDER) applied only after delivery, a 100 MB
message with bounded memory, and SIGKILL at random moments losing and
duplicating nothing. Dovecot runs privately on 127.0.0.1 (tests/servers.py).
Prints TAP."""
import os
import subprocess
import sys
import tempfile

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


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.Dovecot() as dc:
        oversize_case(dc, check, Setup, "IMAP")
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
