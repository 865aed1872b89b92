#!/usr/bin/python3
"""Durability is tested, not assumed: real fetches, deliveries and a
queue flush run under tests/preload-trace.c, which logs every open,
write, fsync, link, rename, mkdir and unlink, and what goes over the TCP
sockets, in order. From that log this checks that

  - a message put into a Maildir's new/ or cur/ (link or rename) had its
    data fsync'd before that, the directory fsync'd after it (and the
    parents of any directory made on the way), and then the state store
    committed, all before the server hears anything about it (UID
    STORE/EXPUNGE/MOVE, DELE, QUIT) -- for `mailsift deliver`, before
    it exits, which is what tells the MTA;
  - a queue file was written, fsync'd and its directory fsync'd (and the
    parent of state/queue/ when it was made) before the state store's
    next write, the commit of the row naming it;
  - the state folder, which mailsift makes on the first run, has its
    parent fsync'd before the server hears anything;
  - a queue row goes (the state store writes) only after the smarthost's
    250 to the end of DATA, and the file only after that commit.

A SIGKILL keeps the page cache, so the crash tests cannot see a missing
fsync; this one does. tests/durability-mutants.sh (run by hand) removes
each fsync of the spool, Maildir and queue code in turn and shows that
this test fails for every one. Prints TAP."""
import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results  # noqa: E402

TOP = os.environ.get("TOP_SRCDIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
results = Results()
check = results.check

SCRIPT = """require ["fileinto", "editheader", "vacation", "copy"];
if header :contains "subject" "edit" { addheader "X-Edited" "yes"; }
if header :contains "subject" "folder" { fileinto "Sub"; }
if header :contains "subject" "forward" {
  redirect :copy "friend@example.net";
  vacation :days 1 :subject "Away" "I am away.";
}
"""


def message(i, subject):
    return (f"From: sender{i}@example.org\nTo: me@example.org\nSubject: {subject}\n"
            f"Message-ID: <d{i}@example.org>\n\n" + f"body of message {i}\n" * 50).encode()


def build(tmp, name):
    so = os.path.join(tmp, name + ".so")
    cc = shlex.split(os.environ.get("CC") or "cc")
    subprocess.run(cc + ["-shared", "-fPIC", "-o", so, os.path.join(TOP, "tests", name + ".c"), "-ldl"],
                   check=True, capture_output=True, timeout=120)
    return so


class Event:
    def __init__(self, idx, line):
        f = line.rstrip("\n").split("\t")
        self.idx, self.pid, self.kind, self.f = idx, f[0], f[1], f[2:]

    def __repr__(self):
        return f"#{self.idx} {self.pid} {self.kind} {' '.join(self.f)}"


class Log:
    """A trace log, with the questions the rules ask of it."""

    def __init__(self, path, state_dir):
        with open(path, errors="replace") as f:
            self.ev = [Event(i, line) for i, line in enumerate(f)]
        self.state_dir = os.path.abspath(state_dir)

    def is_state(self, path):
        return os.path.dirname(path) == self.state_dir and os.path.basename(path) in (
            "state.db", "state.db-wal", "state.db-journal")

    def state_writes(self):
        return [e for e in self.ev if e.kind in ("write", "fsync") and self.is_state(e.f[-1])]

    def state_syncs(self):
        return [e for e in self.ev if (e.kind == "fsync" and self.is_state(e.f[-1])) or e.kind == "syncfs"]

    def synced_between(self, ino, lo, hi):
        """An fsync/fdatasync of the file or directory @ino (or a syncfs)
        between the events @lo and @hi; the first one, or None."""
        for e in self.ev[lo + 1:hi]:
            if e.kind == "syncfs" or (e.kind == "fsync" and e.f[1] == ino):
                return e
        return None

    def data_durable(self, ino, at):
        """The last write to @ino before event @at was fsync'd before it."""
        writes = [e for e in self.ev[:at] if e.kind == "write" and e.f[2] == ino]
        created = [e for e in self.ev[:at] if e.kind == "open" and e.f[4] == ino and e.f[2] == "1"]
        start = max([w.idx for w in writes] + [c.idx for c in created] + [-1])
        return start < 0 or self.synced_between(ino, start, at) is not None

    def made_dirs_synced(self, path, at, hi):
        """Every directory above @path that a mkdir made before event @at
        has its parent fsync'd after the mkdir and before @hi; the ones
        that do not."""
        bad = []
        for e in self.ev[:at]:
            if e.kind == "mkdir" and (path + "/").startswith(e.f[-1] + "/"):
                if self.synced_between(e.f[1], e.idx, hi) is None:
                    bad.append(e)
        return bad


def told_server(e):
    """A command that lets the server drop or change a message."""
    if e.kind != "send":
        return False
    text = e.f[2]
    return bool(re.match(r"(\S+ )?(UID )?(STORE|EXPUNGE|MOVE|COPY)\b", text, re.I)
                or re.match(r"(DELE|QUIT)\b", text, re.I))


def check_deliveries(label, log, maildir, fetch):
    """Rule 1 on every message put into @maildir; @fetch: a server must be
    told afterwards, else the end of the log (the exit) is the deadline."""
    maildir = os.path.abspath(maildir)
    problems = []
    placed = [e for e in log.ev if e.kind in ("link", "rename")
              and e.f[-1].startswith(maildir + "/")
              and os.path.basename(os.path.dirname(e.f[-1])) in ("new", "cur")]
    told = [e for e in log.ev if told_server(e)]
    for d in placed:
        file_ino, dir_ino, new = d.f[0], d.f[1], d.f[-1]
        name = os.path.relpath(new, maildir)
        deadline = next((t.idx for t in told if t.idx > d.idx), None) if fetch else len(log.ev)
        if deadline is None:
            problems.append(f"{name}: the server was never told (no STORE/EXPUNGE/MOVE/DELE/QUIT after it)")
            continue
        what = f"before {log.ev[deadline]!r}" if deadline < len(log.ev) else "before the exit"
        if not log.data_durable(file_ino, d.idx):
            problems.append(f"{name}: its data was not fsync'd before {d!r}")
        dsync = log.synced_between(dir_ino, d.idx, deadline)
        if dsync is None:
            problems.append(f"{name}: {os.path.dirname(new)} was not fsync'd after {d!r} {what}")
        for m in log.made_dirs_synced(os.path.dirname(new), d.idx, deadline):
            problems.append(f"{name}: {m.f[-1]} was made ({m!r}) but its parent not fsync'd {what}")
        if fetch and dsync is not None and not any(dsync.idx < s.idx < deadline for s in log.state_syncs()):
            problems.append(f"{name}: no state store commit (fsync of state.db*) after the folder's "
                            f"fsync {dsync!r} {what}")
    check(f"{label}: every message in the Maildir ({len(placed)}) was on disk, its folder entry "
          f"too, {'and the state committed, before the server was told' if fetch else 'before the exit'}",
          placed and not problems, "\n".join(problems) or "no message was put into the Maildir")
    return len(placed)


def check_queue_files(label, log, state_dir):
    """Rule 2: queue files durable before the commit of their row."""
    qdir = os.path.join(os.path.abspath(state_dir), "queue")
    problems = []
    made = [e for e in log.ev if (e.kind == "open" and e.f[2] == "1" and os.path.dirname(e.f[-1]) == qdir)
            or (e.kind == "link" and os.path.dirname(e.f[-1]) == qdir)]
    writes = log.state_writes()
    for c in made:
        ino, dir_ino = (c.f[4], c.f[5]) if c.kind == "open" else (c.f[0], c.f[1])
        name = os.path.basename(c.f[-1])
        commit = next((w.idx for w in writes if w.idx > c.idx), None)
        if commit is None:
            problems.append(f"queue file {name}: no state store write after it (its row never committed)")
            continue
        if not log.data_durable(ino, commit):
            problems.append(f"queue file {name}: its data was not fsync'd before the row's commit "
                            f"{log.ev[commit]!r}")
        if log.synced_between(dir_ino, c.idx, commit) is None:
            problems.append(f"queue file {name}: {qdir} not fsync'd after {c!r} before the row's "
                            f"commit {log.ev[commit]!r}")
        for m in log.made_dirs_synced(qdir, c.idx, commit):
            problems.append(f"queue file {name}: {m.f[-1]} was made ({m!r}) but its parent not "
                            f"fsync'd before the row's commit {log.ev[commit]!r}")
    check(f"{label}: every queue file ({len(made)}) and its folder entry were on disk before the "
          f"commit of its row", made and not problems, "\n".join(problems) or "no queue file was written")


def check_flush(label, log, state_dir):
    """Rule 3: the row goes after the 250 to the end of DATA; the file after that."""
    qdir = os.path.join(os.path.abspath(state_dir), "queue")
    problems = []
    ends = [e for e in log.ev if e.kind == "send" and e.f[1] == "1"]
    writes = log.state_writes()
    syncs = log.state_syncs()
    for e in ends:
        reply = next((r for r in log.ev[e.idx + 1:] if r.kind == "recv" and r.pid == e.pid and r.f[0] == e.f[0]),
                     None)
        if reply is None or not reply.f[1].startswith("250"):
            problems.append(f"no 250 after the end of DATA {e!r}: {reply!r}")
            continue
        early = [w for w in writes if e.idx < w.idx < reply.idx]
        if early:
            problems.append(f"the state store wrote {early[0]!r} before the 250 to {e!r}")
        if not any(s.idx > reply.idx for s in syncs):
            problems.append(f"no state store commit after the 250 {reply!r}")
    for u in [u for u in log.ev if u.kind == "unlink" and os.path.dirname(u.f[0]) == qdir]:
        last_end = max([e.idx for e in ends if e.idx < u.idx] + [-1])
        if last_end >= 0 and not any(last_end < s.idx < u.idx for s in syncs):
            problems.append(f"{u!r} before the state store committed the end of its row")
    check(f"{label}: each end of DATA ({len(ends)}) got its 250 before the queue row was removed, "
          f"and the file went after that commit", ends and not problems,
          "\n".join(problems) or "no end of DATA was sent")


def wait(sink, n):
    try:
        return sink.wait_for(n, timeout=10)
    except TimeoutError:
        return False


class Box:
    runs = 0

    def __init__(self, tmp, shims, extra=""):
        self.tmp = tmp
        # made by mailsift, and its parent too: their mkdirs are checked
        self.maildir = os.path.join(tmp, "mail", "Maildir")
        self.state = os.path.join(tmp, "var", "state")  # both made by mailsift
        script = os.path.join(tmp, "s.sieve")
        with open(script, "w") as f:
            f.write(SCRIPT)
        self.pw = os.path.join(tmp, "pw")
        with open(self.pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(self.pw, 0o700)
        self.cfg = os.path.join(tmp, "config")
        with open(self.cfg, "w") as f:
            f.write(f"[general]\nmaildir = {self.maildir}\nstate_dir = {self.state}\nscript = {script}\n"
                    f"addresses = me@example.org\n{extra}")
        os.chmod(self.cfg, 0o600)
        self.log = os.path.join(tmp, "trace.log")
        self.env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"),
                        XDG_STATE_HOME=os.path.join(tmp, ".state"), TRACE_LOG=self.log,
                        LD_PRELOAD=" ".join(filter(None, shims + [os.environ.get("LD_PRELOAD")])),
                        ASAN_OPTIONS=":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                            "verify_asan_link_order=0"])))

    def run(self, *args, stdin=None):
        if os.path.exists(self.log):
            os.unlink(self.log)
        p = subprocess.run([MAILSIFT, *args, "-c", self.cfg], input=stdin, capture_output=True,
                           env=self.env, timeout=60)
        keep = os.environ.get("DURABILITY_LOGS")  # a directory to keep each run's trace in
        if keep and os.path.exists(self.log):
            Box.runs += 1
            shutil.copy(self.log, os.path.join(keep, f"{Box.runs:02}-{args[0]}.log"))
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def trace(self):
        return Log(self.log, self.state)

    def delivered(self):
        return sum(len(files) for d, _, files in os.walk(self.maildir)
                   if os.path.basename(d) in ("new", "cur"))

    def queue_rows(self):
        with sqlite3.connect(os.path.join(self.state, "state.db")) as db:
            return db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]


def fetch_case(dc, shims, protocol, msgs, name=None):
    name = name or f"{protocol} fetch"
    dc.expunge_all("test")
    dc.fill("test", msgs)
    with tempfile.TemporaryDirectory(prefix="ms-dur-") as tmp:
        b = Box(tmp, shims, f"[account test]\nprotocol = {protocol}\nhost = 127.0.0.1\n"
                            f"port = {dc.ports[protocol]}\ntls = none\nuser = test\n"
                            f"password_command = {os.path.join(tmp, 'pw')}\nafter_delivery = delete\n"
                            f"timeout = 10\n")
        code, out = b.run("fetch")
        left = len(dc.list("test"))
        check(f"{name}, after_delivery = delete, under the trace: all delivered and removed",
              code == 0 and b.delivered() == len(msgs) and left == 0,
              f"exit {code}, delivered {b.delivered()}, left {left}\n{out}")
        log = b.trace()
        n = check_deliveries(name, log, b.maildir, fetch=True)
        check_queue_files(f"{name} with a redirect", log, b.state)
        told = next((e.idx for e in log.ev if told_server(e)), len(log.ev))
        made = [e for e in log.ev[:told] if e.kind == "mkdir" and e.f[-1] == log.state_dir]
        bad = log.made_dirs_synced(os.path.join(log.state_dir, "state.db"), told, told)
        check(f"{name}: the state folder mailsift made has its parent fsync'd before "
              "the server is told anything", made and not bad,
              f"mkdir of {log.state_dir}: {made}; parents not synced: {bad}")
        check(f"{name}: the trace saw the server told ({protocol} commands) and all "
              f"{len(msgs)} messages", n == len(msgs) and any(told_server(e) for e in log.ev),
              f"{n} placed\n" + "\n".join(repr(e) for e in log.ev if e.kind == "send"))


def deliver_case(shims, sink, label, nolink=False):
    with tempfile.TemporaryDirectory(prefix="ms-dur-") as tmp:
        b = Box(tmp, shims)  # no smarthost yet: deliver only queues
        msgs = [message(1, "edit me"), message(2, "into a folder"), message(3, "forward this")]
        for i, m in enumerate(msgs):
            code, out = b.run("deliver", "-f", f"sender{i + 1}@example.org", "-a", "me@example.org", stdin=m)
            log = b.trace()
            check(f"{label} of message {i + 1}: exit 0, the script ran", code == 0 and "error" not in out, out)
            check_deliveries(f"{label} of message {i + 1}", log, b.maildir, fetch=False)
        check_queue_files(f"{label} with redirect and vacation", log, b.state)
        rows = b.queue_rows()
        check(f"{label}: the redirect and the vacation answer are queued", rows == 2, f"{rows} rows")
        if nolink:
            placed = [e for e in log.ev if e.kind == "rename" and "/new/" in e.f[-1]]
            check(f"{label}: copied into new/ (the link was refused)", placed, "no rename into new/")
        if nolink or sink is None:
            return
        sink.messages.clear()
        with open(b.cfg, "a") as f:
            f.write(f"[smtp main]\nhost = 127.0.0.1\nport = {sink.port}\ntls = none\n")
        code, out = b.run("queue", "flush")
        log = b.trace()
        check("queue flush: exit 0, both sent, no row left",
              code == 0 and wait(sink, 2) and b.queue_rows() == 0 and
              not os.listdir(os.path.join(b.state, "queue")), f"exit {code}\n{out}")
        check_flush("queue flush", log, b.state)


def main():
    servers.cleanup_on_signals()
    try:
        import aiosmtpd  # noqa: F401
        smtp = True
    except ImportError:
        smtp = False
    dovecot = servers.find_program("dovecot")
    with tempfile.TemporaryDirectory(prefix="ms-dur-shim-") as shimdir:
        trace = build(shimdir, "preload-trace")
        nolink = build(shimdir, "preload-nolink")
        with servers.SmtpSink() if smtp else contextlib.nullcontext() as sink:
            deliver_case([trace], sink, "deliver")
            deliver_case([nolink, trace], sink, "deliver where link() fails", nolink=True)
        msgs = [message(10, "plain"), message(11, "edit this one"), message(12, "into a folder"),
                message(13, "forward this")]
        if dovecot:
            with servers.Dovecot() as dc:
                fetch_case(dc, [trace], "imap", msgs)
                fetch_case(dc, [trace], "pop3", msgs)
                # a batch of one file in one folder: fsync, not syncfs
                fetch_case(dc, [trace], "imap", [message(14, "forward this, alone")], "imap fetch of one message")
    results.print_tap()
    # a missing server skips its part (tests/install-deps.sh installs both)
    if not smtp:
        print("# SKIP queue flush: python3-aiosmtpd is not installed")
    if not dovecot:
        print("# SKIP IMAP and POP3 fetch: dovecot is not installed")


if __name__ == "__main__":
    main()
