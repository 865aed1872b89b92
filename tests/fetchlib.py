"""Helpers shared by the fetch integration tests (fetch-pop3.py,
fetch-imap.py): test messages, an account config against the private
Dovecot of servers.py, delivered-mail digests, the SIGKILL crash run,
peak-RSS measurement and TAP output."""
import hashlib
import os
import random
import re
import signal
import subprocess
import tempfile
import time

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")


def message(i, size=2000):
    body = "".join(f"line {j} of message {i} " + "x" * 40 + "\n" for j in range(size // 60))
    return (f"From: sender{i % 7}@example.org\nTo: test@example.org\nSubject: message {i}\n"
            f"Message-ID: <m{i}@example.org>\n\n{body}").encode()


class Setup:
    """A mailsift config in @tmp with one [account test] on @dovecot;
    keyword arguments override account keys (None removes one)."""

    def __init__(self, dovecot, tmp, protocol, **account):
        self.tmp = tmp
        self.maildir = os.path.join(tmp, "Maildir")
        self.cfg = os.path.join(tmp, "config")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(pw, 0o700)
        acct = {"protocol": protocol, "host": "127.0.0.1", "port": dovecot.ports[protocol + "s"],
                "tls": "implicit", "ca_file": dovecot.ca_file, "user": "test",
                "password_command": pw, "timeout": "10"}
        acct.update({k: v for k, v in account.items() if v is not None})
        for k in [k for k, v in account.items() if v is None]:
            acct.pop(k, None)
        lines = ["[general]", f"maildir = {self.maildir}", f"state_dir = {tmp}/state", "[account test]"]
        lines += [f"{k} = {v}" for k, v in acct.items()]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.cfg, 0o600)

    def fetch(self, *args, timeout=120):
        p = subprocess.run([MAILSIFT, "fetch", *args, "-c", self.cfg], capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def delivered(self):
        out = []
        for d, _, files in os.walk(self.maildir):
            if os.path.basename(d) in ("new", "cur"):
                out += [open(os.path.join(d, f), "rb").read() for f in files]
        return out


def oversize_case(dovecot, check, make_setup, label):
    """max_message_size: the big message stays on the server, the rest is
    delivered, and one note about it (not one per run) is in the INBOX."""
    small, big = message(900, 2000), message(901, 60000)
    dovecot.expunge_all("test")
    dovecot.fill("test", [small, big])
    with tempfile.TemporaryDirectory(prefix="ms-big-") as tmp:
        s = make_setup(dovecot, tmp, max_message_size="40", after_delivery="delete")
        code, out, err = s.fetch()
        got = s.delivered()
        notes = [m for m in got if b"Subject: Left on the server (too big): message 901" in m]
        others = [m for m in got if m not in notes]
        check(f"{label}: a message over max_message_size stays on the server, the rest is delivered",
              code == 0 and digest_set(others) == digest_set([small]) and len(dovecot.list("test")) == 1
              and "over max_message_size" in err, f"exit {code}\n{out}{err}")
        check(f"{label}: one note about it in the INBOX, with its size, the account, what to do and "
              f"its header", len(notes) == 1 and re.search(rb"A message of 6\d KiB", notes[0])
              and b"account test" in notes[0] and b"oversize = fetch" in notes[0]
              and b"Message-ID: <m901@example.org>" in notes[0],
              notes[0].decode(errors="replace") if notes else f"{len(got)} delivered")
        code, out, err = s.fetch()
        got = s.delivered()
        check(f"{label}: the next fetch writes no second note and leaves the message alone",
              code == 0 and len(got) == 2 and len(dovecot.list("test")) == 1, f"exit {code}\n{out}{err}")
    dovecot.expunge_all("test")


def digest_set(msgs):
    return sorted(hashlib.sha256(m.replace(b"\r\n", b"\n")).hexdigest() for m in msgs)


def wait_gone(cfg, timeout=5.0):
    """Wait until no `mailsift fetch -c @cfg` is left. A killed fetch's
    account process dies through PR_SET_PDEATHSIG a moment after it, and
    holds the account's lock until then."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not subprocess.run(["pgrep", "-f", f"fetch -c {cfg}"], capture_output=True).stdout:
            return
        time.sleep(0.05)


def crash_run(dovecot, setup, messages, kills, seed):
    """Fetch @messages (after_delivery = delete) while killing mailsift with
    SIGKILL at random moments, up to @kills times, then once cleanly.
    Returns (check name, ok, detail)."""
    rng = random.Random(seed)
    done = 0
    for _ in range(kills):
        p = subprocess.Popen([MAILSIFT, "fetch", "-c", setup.cfg], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.01, 0.2))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            done += 1
        p.wait()
        wait_gone(setup.cfg)
    code, out, err = setup.fetch(timeout=300)
    got = setup.delivered()
    dupes = len(got) - len(set(digest_set(got)))
    left = len(dovecot.list("test"))
    return (f"{done} SIGKILLs during fetch of {len(messages)}: every message once, byte for byte",
            code == 0 and digest_set(got) == digest_set(messages) and left == 0,
            f"exit {code}, delivered {len(got)}, duplicates {dupes}, left on server {left}\n{out}{err[-2000:]}")


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


class Results:
    def __init__(self):
        self.rows = []

    def check(self, name, ok, detail=""):
        self.rows.append((name, bool(ok), detail))

    def print_tap(self):
        print(f"1..{len(self.rows)}")
        for i, (name, ok, detail) in enumerate(self.rows, 1):
            print(f"{'ok' if ok else 'not ok'} {i} - {name}")
            if not ok:
                for line in str(detail).splitlines():
                    print(f"# {line}")
