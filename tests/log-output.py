#!/usr/bin/python3
"""Logs as people read them, against the private Dovecot of
tests/servers.py: -vv traces each command and answer of IMAP and POP3
with the password, and the whole login exchange, hidden; -q prints
nothing when all went well and the error when not; stderr lines carry a
timestamp unless stderr is the systemd journal (JOURNAL_STREAM); log =
syslog sends them to the syslog socket (MAILSIFT_SYSLOG_SOCKET here)
with facility mail; log_level in the config raises the detail; queue
flush with nothing due says so. Prints TAP."""
import base64
import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results, Setup, message  # noqa: E402

results = Results()
check = results.check
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d mailsift\[\d+\]: ")


def secrets_in(text):
    """What of the password would show: itself, or SASL PLAIN's base64."""
    plain = base64.b64encode(b"\0test\0secret").decode()
    return [s for s in ("secret", plain, plain[:12]) if s in text]


def trace_cases(dc, tmp):
    for protocol in ("imap", "pop3"):
        dc.expunge_all("test")
        dc.fill("test", [message(1), message(2)])
        d = os.path.join(tmp, "trace-" + protocol)
        os.makedirs(d)
        s = Setup(dc, d, protocol, after_delivery="delete")
        code, out, err = s.fetch("-vv")
        client = [l for l in err.splitlines() if ": C: " in l]
        server = [l for l in err.splitlines() if ": S: " in l]
        hidden = [l for l in client if "[hidden]" in l]
        check(f"-vv {protocol}: each command and answer traced, 2 messages delivered",
              code == 0 and len(s.delivered()) == 2 and len(client) >= 3 and len(server) >= 3,
              f"exit {code}, {len(client)} C: lines, {len(server)} S: lines\n{out}{err[-3000:]}")
        check(f"-vv {protocol}: the login is shown as [hidden], and no trace of the password",
              hidden and not secrets_in(err), f"hidden lines {hidden}, found {secrets_in(err)}\n{err[-3000:]}")
        check(f"-vv {protocol}: debug lines carry the server's address",
              all(f"127.0.0.1:{dc.ports[protocol + 's']}: " in l for l in client + server),
              "\n".join((client + server)[:5]))


def quiet_cases(dc, tmp):
    dc.expunge_all("test")
    dc.fill("test", [message(3)])
    d = os.path.join(tmp, "quiet")
    os.makedirs(d)
    s = Setup(dc, d, "imap", after_delivery="delete")
    code, out, err = s.fetch("-q")
    check("-q: a fetch that went well prints nothing at all",
          code == 0 and out == "" and err == "" and len(s.delivered()) == 1, f"exit {code}\n{out!r}\n{err!r}")
    dead = servers.free_ports(1)[0]
    d = os.path.join(tmp, "quiet-dead")
    os.makedirs(d)
    s = Setup(dc, d, "imap", port=str(dead))
    code, out, err = s.fetch("-q")
    check("-q: a fetch that failed says so, and exits 75",
          code == 75 and "cannot connect" in out + err, f"exit {code}\n{out}{err}")
    code, out, err = s.fetch("-q", "-v")
    check("-q with -v is refused as a usage error", code == 64 and "-q and -v" in err, f"exit {code}\n{err}")


def stamp_cases(dc, tmp):
    dc.expunge_all("test")
    dc.fill("test", [message(4)])
    d = os.path.join(tmp, "stamp")
    os.makedirs(d)
    s = Setup(dc, d, "imap", after_delivery="delete")
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    p = subprocess.run([MAILSIFT, "fetch", "-v", "-c", s.cfg], capture_output=True, env=env, timeout=60)
    lines = [l for l in p.stderr.decode(errors="replace").splitlines() if l]
    check("stderr lines start with the date and time when stderr is not the journal",
          p.returncode == 0 and lines and all(STAMP.match(l) for l in lines), "\n".join(lines[:5]))
    dc.fill("test", [message(5)])
    errfile = os.path.join(d, "stderr")
    with open(errfile, "wb") as f:
        st = os.fstat(f.fileno())
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        p = subprocess.run([MAILSIFT, "fetch", "-v", "-c", s.cfg], stdout=subprocess.PIPE, stderr=f,
                           env=env, timeout=60)
    lines = [l for l in open(errfile, errors="replace").read().splitlines() if l]
    check("stderr lines start at \"mailsift[pid]\" when JOURNAL_STREAM names stderr",
          p.returncode == 0 and lines and all(re.match(r"^mailsift\[\d+\]: ", l) for l in lines),
          "\n".join(lines[:5]))


def syslog_cases(tmp):
    d = os.path.join(tmp, "syslog")
    os.makedirs(d)
    maildir = os.path.join(d, "Maildir")
    cfg = os.path.join(d, "config")
    with open(cfg, "w") as f:
        f.write(f"[general]\nmaildir = {maildir}\nstate_dir = {d}/state\nlog = syslog\n"
                "[smtp local]\nhost = 127.0.0.1\nport = 9\ntls = none\n")
    os.chmod(cfg, 0o600)
    path = os.path.join(d, "log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    env = dict(os.environ, MAILSIFT_SYSLOG_SOCKET=path)
    msg = b"From: a@example.org\nTo: me@example.org\nSubject: s\nMessage-ID: <s1@example.org>\n\nhi\n"
    p = subprocess.run([MAILSIFT, "deliver", "-v", "-c", cfg, "-f", "a@example.org"], input=msg,
                       capture_output=True, env=env, timeout=60)
    got = []
    try:
        while True:
            got.append(sock.recv(65536).decode(errors="replace"))
            sock.settimeout(0.5)
    except socket.timeout:
        pass
    sock.close()
    check("log = syslog: the lines go to the syslog socket with facility mail, none to stderr",
          p.returncode == 0 and got and all(re.match(r"^<2[0-3]>mailsift\[\d+\]: \w+: ", g) for g in got)
          and any(g.startswith("<22>") and "s1@example.org" in g for g in got)
          and "mailsift[" not in p.stderr.decode(errors="replace"),
          f"exit {p.returncode}, got {got}\n{p.stderr.decode(errors='replace')}")
    p = subprocess.run([MAILSIFT, "queue", "flush", "--due", "-c", cfg], capture_output=True, env=env, timeout=60)
    check("queue flush with nothing due says so, and nothing about a failure notice",
          p.returncode == 0 and p.stdout.decode().strip() == "queue: nothing was due",
          f"exit {p.returncode}\n{p.stdout.decode()}{p.stderr.decode()}")
    p = subprocess.run([MAILSIFT, "queue", "flush", "--due", "-q", "-c", cfg], capture_output=True, env=env,
                       timeout=60)
    check("queue flush -q with nothing due prints nothing",
          p.returncode == 0 and p.stdout == b"" and p.stderr == b"", f"{p.stdout!r} {p.stderr!r}")


def level_cases(tmp):
    """log_level in the config raises the detail as -v does; -q still wins."""
    msg = b"From: a@example.org\nTo: me@example.org\nSubject: s\nMessage-ID: <l1@example.org>\n\nhi\n"
    for level, args, want in (("notice", [], False), ("info", [], True), ("debug", ["-q"], False)):
        d = os.path.join(tmp, "level-" + level)
        os.makedirs(d)
        cfg = os.path.join(d, "config")
        with open(cfg, "w") as f:
            f.write(f"[general]\nmaildir = {d}/Maildir\nstate_dir = {d}/state\nlog_level = {level}\n")
        os.chmod(cfg, 0o600)
        p = subprocess.run([MAILSIFT, "deliver", *args, "-c", cfg, "-f", "a@example.org"], input=msg,
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        info = [l for l in err.splitlines() if ": info: " in l and "l1@example.org" in l]
        check(f"log_level = {level}{' with -q' if args else ''}: "
              f"{'a' if want else 'no'} line for the message at info",
              p.returncode == 0 and bool(info) == want and (want or err == ""), f"exit {p.returncode}\n{err}")


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.Dovecot() as dc, tempfile.TemporaryDirectory(prefix="ms-logging-") as tmp:
        trace_cases(dc, tmp)
        quiet_cases(dc, tmp)
        stamp_cases(dc, tmp)
        syslog_cases(tmp)
        level_cases(tmp)
    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
