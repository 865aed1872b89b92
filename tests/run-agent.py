#!/usr/bin/python3
"""`mailsift run` against a real Dovecot: catches up at start, a message
saved on the server arrives through IMAP IDLE within 2 s (in the first
folder and in another one), the server's IDLE keep-alives (sent every
second here) do not make the agent fetch again, the worker survives the
server going away and coming back, and SIGTERM stops everything cleanly.
Dovecot runs privately on 127.0.0.1. Prints TAP."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def message(i):
    return (f"From: a@example.org\nTo: test@example.org\nSubject: push {i}\n"
            f"Message-ID: <push{i}@example.org>\n\nbody {i}\n").encode()


def count(maildir):
    n = 0
    for d, _, files in os.walk(maildir):
        if os.path.basename(d) in ("new", "cur"):
            n += len(files)
    return n


def wait_for(maildir, n, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if count(maildir) >= n:
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def logins(dc):
    """IMAP logins Dovecot has logged so far."""
    return len(re.findall(r"imap-login: (?:Info: )?Login: ", dc.log_text()))


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    # "* OK Still here" every second instead of every 2 minutes
    with servers.Dovecot(settings={"imap_idle_notify_interval": "1 secs"}) as dc, \
            tempfile.TemporaryDirectory(prefix="ms-run-") as tmp:
        maildir = os.path.join(tmp, "Maildir")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(pw, 0o700)
        cfg = os.path.join(tmp, "config")
        with open(cfg, "w") as f:
            f.write(f"[general]\nmaildir = {maildir}\nstate_dir = {tmp}/state\n"
                    f"[account test]\nprotocol = imap\nhost = 127.0.0.1\nport = {dc.ports['imaps']}\n"
                    f"ca_file = {dc.ca_file}\nuser = test\npassword_command = {pw}\n"
                    "after_delivery = delete\ntimeout = 10\nfolders = INBOX, Lists\n")
        os.chmod(cfg, 0o600)
        dc.fill("test", [message(0), message(1)])
        dc.fill("test", [], folder="Lists")
        log = open(os.path.join(tmp, "run.log"), "w+")
        agent = subprocess.Popen([MAILSIFT, "run", "-v", "-c", cfg], stdout=log, stderr=log)
        try:
            t = wait_for(maildir, 2, 15)
            check("run catches up with the mail already there", t is not None, f"count {count(maildir)}")
            time.sleep(1.0)  # let the worker enter IDLE
            workers = subprocess.run(["pgrep", "-P", str(agent.pid)], capture_output=True,
                                     text=True).stdout.split()
            under = [c for w in workers for c in subprocess.run(["pgrep", "-P", w], capture_output=True,
                                                                text=True).stdout.split()]
            check("one process per account: the worker fetches and idles itself, with no "
                  "process of its own under it", len(workers) == 1 and under == [],
                  f"workers {workers}, under them {under}")
            dc.save("test", message(2))
            t = wait_for(maildir, 3, 10)
            check(f"a message saved on the server arrives through IDLE within 2 s "
                  f"({t if t is None else round(t, 2)} s)", t is not None and t < 2.0)

            time.sleep(1.0)
            before = logins(dc)
            time.sleep(4.0)
            after = logins(dc)
            check(f"keep-alives during IDLE (one a second) cause no new fetch: {after - before} "
                  f"logins in 4 s", after == before, dc.log_text()[-2000:])
            dc.save("test", message(5), folder="Lists")
            t = wait_for(maildir, 4, 10)
            check(f"a message saved into the second folder arrives through IDLE within 2 s "
                  f"({t if t is None else round(t, 2)} s)", t is not None and t < 2.0)

            dc.stop()
            time.sleep(1.0)
            dc.start()
            dc.save("test", message(3))
            t = wait_for(maildir, 5, 40)
            check("the worker survives the server going away and back", t is not None,
                  f"count {count(maildir)}")
            check("agent still running", agent.poll() is None)

            agent.send_signal(signal.SIGHUP)
            time.sleep(2.0)
            alive = agent.poll() is None
            dc.save("test", message(4))
            t = wait_for(maildir, 6, 20)
            check("SIGHUP reloads: the agent stays up and new mail still arrives",
                  alive and t is not None, f"alive {alive}, count {count(maildir)}")
            # the file is in the Maildir before the server is told to delete
            # the message: a SIGTERM in between leaves that to the next run
            start = time.monotonic()
            while dc.list("test") and time.monotonic() - start < 10:
                time.sleep(0.05)
        finally:
            agent.send_signal(signal.SIGTERM)
            try:
                code = agent.wait(timeout=15)
            except subprocess.TimeoutExpired:
                agent.kill()
                code = None
        log.seek(0)
        text = log.read()
        check("SIGTERM stops the agent cleanly (exit 0)", code == 0, text[-3000:])
        check("the server outage was logged with a retry", "trying again in" in text or "restarting in" in text,
              text[-3000:])
        left = subprocess.run(["pgrep", "-f", f"fetch --watch -c {cfg}"], capture_output=True, text=True)
        check("no worker left behind", left.stdout.strip() == "", left.stdout)
        check("every message delivered once", count(maildir) == 6 and dc.list("test") == []
              and dc.list("test", "Lists") == [],
              f"local {count(maildir)}, server {len(dc.list('test'))} + {len(dc.list('test', 'Lists'))}")

    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            for line in str(detail).splitlines():
                print(f"# {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
