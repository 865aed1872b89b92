#!/usr/bin/python3
"""`mailsift fetch` against a real Dovecot over IMAP (IMAPS, STARTTLS):
delivery byte for byte, nothing fetched twice, every after_delivery mode
(keep, seen, delete, move:FOLDER) applied only after delivery, a 100 MB
message with bounded memory, and SIGKILL at random moments losing and
duplicating nothing. Dovecot runs privately on 127.0.0.1 (tests/servers.py).
Prints TAP."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")
KILLS = int(os.environ.get("FETCH_CRASH_KILLS", "50"))
CRASH_MESSAGES = int(os.environ.get("FETCH_CRASH_MESSAGES", "1000"))
BIG_MB = int(os.environ.get("FETCH_BIG_MB", "100"))


def message(i, size=2000):
    body = "".join(f"line {j} of message {i} " + "x" * 40 + "\n" for j in range(size // 60))
    return (f"From: sender{i % 7}@example.org\nTo: test@example.org\nSubject: message {i}\n"
            f"Message-ID: <m{i}@example.org>\n\n{body}").encode()


class Setup:
    def __init__(self, dovecot, tmp, **account):
        self.tmp = tmp
        self.maildir = os.path.join(tmp, "Maildir")
        self.cfg = os.path.join(tmp, "config")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(pw, 0o700)
        acct = {"protocol": "imap", "host": "127.0.0.1", "port": dovecot.ports["imaps"],
                "tls": "implicit", "ca_file": dovecot.ca_file, "user": "test",
                "password_command": pw, "timeout": "10"}
        acct.update({k: v for k, v in account.items() if v is not None})
        for k in [k for k, v in account.items() if v is None]:
            acct.pop(k, None)
        lines = ["[general]", f"maildir = {self.maildir}", f"state_dir = {tmp}/state"]
        lines.append("[account test]")
        lines += [f"{k} = {v}" for k, v in acct.items()]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.cfg, 0o600)

    def fetch(self, timeout=120):
        p = subprocess.run([MAILSIFT, "fetch", "-c", self.cfg], capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def delivered(self):
        out = []
        for d, _, files in os.walk(self.maildir):
            if os.path.basename(d) in ("new", "cur"):
                out += [open(os.path.join(d, f), "rb").read() for f in files]
        return out


def digest_set(msgs):
    return sorted(hashlib.sha256(m.replace(b"\r\n", b"\n")).hexdigest() for m in msgs)


results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def _tree(pid):
    """pid and all its descendants, from /proc/PID/task/TID/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def run_measured(argv):
    """Run argv; return (exit, stdout, stderr, peak RSS in KiB of the
    largest process in its tree: the account worker). The peak is VmHWM
    sampled from /proc: getrusage's ru_maxrss would include this big
    Python process, which a child inherits across fork and exec."""
    out_f, err_f = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdout=out_f, stderr=err_f)
    hwm = 0
    while p.poll() is None:
        for pid in _tree(p.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            hwm = max(hwm, int(line.split()[1]))
            except OSError:
                pass
        time.sleep(0.005)
    out_f.seek(0)
    err_f.seek(0)
    return p.returncode, out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace"), hwm


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.Dovecot() as dc:
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
        rng = random.Random(4321)
        with tempfile.TemporaryDirectory(prefix="ms-imap-crash-") as tmp:
            s = Setup(dc, tmp, after_delivery="delete")
            kills = 0
            for _ in range(KILLS):
                p = subprocess.Popen([MAILSIFT, "fetch", "-c", s.cfg], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.01, 0.2))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    kills += 1
                p.wait()
            code, out, err = s.fetch(timeout=300)
            got = s.delivered()
            dupes = len(got) - len(set(digest_set(got)))
            check(f"{kills} SIGKILLs during fetch of {CRASH_MESSAGES}: every message once, byte for byte",
                  code == 0 and digest_set(got) == digest_set(many) and dc.list("test") == [],
                  f"exit {code}, delivered {len(got)}, duplicates {dupes}, left on server "
                  f"{len(dc.list('test'))}\n{out}{err[-2000:]}")

    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            for line in detail.splitlines():
                print(f"# {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
