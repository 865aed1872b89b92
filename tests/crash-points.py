#!/usr/bin/python3
"""Deterministic crash points (MAILSIFT_CRASH_AT=STEP:N, agent/crash.c):
for every mode below, every named durability step and N in (1, 2, 4),
a fresh mailbox of 5 messages is handled once with mailsift told to
_exit(86) at the Nth pass through the step, as a power loss would stop
it there; then it runs again without the variable (and `queue flush`),
and the result must be what a run without a crash gives:

  imap-delete   IMAP fetch, after_delivery = delete; message 3 is also
                redirected (keep; redirect)
  imap-move     IMAP fetch, after_delivery = move:Done
  pop3-delete   POP3 fetch, after_delivery = delete
  deliver       `mailsift deliver` of each message (redirect; keep), with
                a smarthost; the delivery of message 3 has the variable
                (a process delivers one message: N > 1 is never
                reached), and the MTA retries it
  queue-flush   five redirects queued by deliver, then `queue flush`
  imap-append   IMAP fetch, deliver_to = imap: (another Dovecot user)
  sift          IMAP fetch, fileinto_target = server: message 1 is only
                filed (UID MOVE), 2 to 5 are filed into a folder each
                (UID COPY) and kept here

Every message delivered exactly once, byte for byte: in the Maildir, in
the server folders it is filed or appended to, and at the smarthost.
The exceptions are the documented windows (README, "Crash points"), each
at most one extra copy of the one message in flight:
  smtp-250          the smarthost has it, the queue row not yet gone
  sift-copy         UID COPY done, not yet recorded
  imap-append       APPEND done, not yet recorded
  deliver mode      a crash after the first link into new/ is a failed
                    delivery to the MTA, which delivers again
Also checked: nothing left in the source folder (both modes remove
there), no file in any Maildir tmp/, no queue file without a row and no
row left. A step that a (mode, N) never reaches is counted, and a step
that no mode reaches fails the test; an unknown step name makes
mailsift exit 64. Prints TAP."""
import collections
import concurrent.futures
import os
import queue
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results, Setup  # noqa: E402

CRASH = 86
STEPS = ["spool-write", "spool-fsync", "journal-commit", "maildir-link", "folder-fsync",
         "state-commit", "imap-store", "imap-expunge", "imap-move", "pop3-dele", "queue-file",
         "queue-row", "smtp-250", "queue-row-delete", "sift-copy", "imap-append"]
NS = (1, 2, 4)
COUNT = 5
CRASHING = 2  # deliver: the message whose delivery has the crash point armed
# cases run in parallel, each worker with a source and a destination user
# of its own on the one Dovecot
WORKERS = 4
USERS = [(f"src{w}", f"dst{w}") for w in range(WORKERS)]
TRACE = b"X-Mailsift-Redirected: me@example.org; redirected to bob@example.net\n"
# the steps after which `deliver` has delivered (the MTA's retry delivers again)
DELIVERED_AT = {"maildir-link", "folder-fsync", "queue-file", "queue-row", "state-commit",
                "smtp-250", "queue-row-delete"}

results = Results()
check = results.check


def msg(case, i):
    return (f"Return-Path: <alice@example.org>\nFrom: alice@example.org\nTo: me@example.org\n"
            f"Subject: message {i}\nMessage-ID: <crash-{case}-{i}@example.org>\n\n"
            + "".join(f"line {j} of message {i} of case {case}\n" for j in range(30))
            + ".a dot line\n").encode()


def norm(b):
    return b.replace(b"\r\n", b"\n")


def counter(msgs):
    return collections.Counter(norm(m) for m in msgs)


def run(argv, env_crash=None, input=None, timeout=120):
    """@env_crash: "STEP:N" for MAILSIFT_CRASH_AT, or ("trace", PATH) for
    MAILSIFT_CRASH_TRACE."""
    env = dict(os.environ)
    env.pop("MAILSIFT_CRASH_AT", None)
    env.pop("MAILSIFT_CRASH_TRACE", None)
    if isinstance(env_crash, tuple):
        env["MAILSIFT_CRASH_TRACE"] = env_crash[1]
    elif env_crash:
        env["MAILSIFT_CRASH_AT"] = env_crash
    p = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def local_mail(maildir):
    out = []
    for d, _, files in os.walk(maildir):
        if os.path.basename(d) in ("new", "cur"):
            out += [open(os.path.join(d, f), "rb").read() for f in files]
    return out


def tmp_files(maildir):
    out = []
    for d, _, files in os.walk(maildir):
        if os.path.basename(d) == "tmp":
            out += [os.path.join(d, f) for f in files]
    return out


def queue_state(state):
    """(rows' files, files in state/queue/)."""
    db = os.path.join(state, "state.db")
    rows = []
    if os.path.exists(db):
        con = sqlite3.connect(db)
        rows = [r[0] for r in con.execute("SELECT file FROM queue").fetchall()]
        con.close()
    qdir = os.path.join(state, "queue")
    files = sorted(os.path.join(qdir, f) for f in os.listdir(qdir)) if os.path.isdir(qdir) else []
    return rows, files


class Case:
    """One (mode, step, N): its directory, config and expectations."""

    def __init__(self, dc, sink, tmp, mode, seq, users):
        self.dc, self.sink, self.tmp, self.mode = dc, sink, tmp, mode
        self.src, self.dst = users
        self.seq = seq
        self.msgs = [msg(seq, i) for i in range(1, COUNT + 1)]
        self.state = os.path.join(tmp, "state")
        script = os.path.join(tmp, "s.sieve")
        smtp = f"[smtp main]\nhost = 127.0.0.1\nport = {sink.port}\ntls = none\n"
        account = {}
        if mode == "imap-delete":
            text = ('if header :contains "subject" "message 3" {\n'
                    '  redirect "bob@example.net";\n  keep;\n}\n')
            account = dict(after_delivery="delete")
        elif mode == "imap-move":
            text = "keep;\n"
            account = dict(after_delivery="move:Done")
        elif mode == "pop3-delete":
            text = "keep;\n"
            account = dict(after_delivery="delete")
        elif mode in ("deliver", "queue-flush"):
            text = 'redirect "bob@example.net";\nkeep;\n'
        elif mode == "imap-append":
            text = "keep;\n"
            account = dict(after_delivery="delete", deliver_to="imap:new")
        elif mode == "sift":
            text = 'require "fileinto";\nif header :is "subject" "message 1" { fileinto "Sift1"; stop; }\n'
            text += "".join(f'if header :is "subject" "message {i}" {{ fileinto "Sift{i}"; keep; }}\n'
                            for i in range(2, COUNT + 1))
            account = dict(after_delivery="delete", fileinto_target="server")
        with open(script, "w") as f:
            f.write(text)
        if mode in ("deliver", "queue-flush"):
            self.maildir = os.path.join(tmp, "Maildir")
            self.cfg = os.path.join(tmp, "config")
            with open(self.cfg, "w") as f:
                f.write(f"[general]\nmaildir = {self.maildir}\nstate_dir = {self.state}\n"
                        f"script = {script}\naddresses = me@example.org\n{smtp}")
            os.chmod(self.cfg, 0o600)
            self.enqueue_cfg = os.path.join(tmp, "enqueue")
            with open(self.enqueue_cfg, "w") as f:
                f.write(f"[general]\nmaildir = {self.maildir}\nstate_dir = {self.state}\n"
                        f"script = {script}\naddresses = me@example.org\n")
            os.chmod(self.enqueue_cfg, 0o600)
        else:
            pw = os.path.join(tmp, "pw1")
            with open(pw, "w") as f:
                f.write("#!/bin/sh\necho secret\n")
            os.chmod(pw, 0o700)
            s = Setup(dc, tmp, "pop3" if mode == "pop3-delete" else "imap", script=script,
                      user=self.src, password_command=pw, **account)
            with open(s.cfg, "a") as f:
                f.write(smtp)
                if mode == "imap-append":
                    pw2 = os.path.join(tmp, "pw2")
                    with open(pw2, "w") as p:
                        p.write("#!/bin/sh\necho secret\n")
                    os.chmod(pw2, 0o700)
                    f.write(f"[account new]\nprotocol = imap\nhost = 127.0.0.1\n"
                            f"port = {dc.ports['imaps']}\ntls = implicit\nca_file = {dc.ca_file}\n"
                            f"user = {self.dst}\npassword_command = {pw2}\nfetch = no\n")
            # the redirect's sender: addresses = me@example.org
            with open(s.cfg) as f:
                text = f.read().replace("[general]\n", "[general]\naddresses = me@example.org\n", 1)
            with open(s.cfg, "w") as f:
                f.write(text)
            self.maildir, self.cfg = s.maildir, s.cfg
            dc.fill(self.src, self.msgs)

    def deliver(self, i, crash=None, cfg=None):
        return run([MAILSIFT, "deliver", "-c", cfg or self.cfg, "-f", "alice@example.org",
                    "-a", "me@example.org"], env_crash=crash, input=self.msgs[i])

    def flush(self, crash=None):
        return run([MAILSIFT, "queue", "flush", "-c", self.cfg], env_crash=crash)

    def fetch(self, crash=None):
        return run([MAILSIFT, "fetch", "-c", self.cfg], env_crash=crash)

    def crash_run(self, step, n):
        """The run with the crash point armed (@step None: traced into
        @n): (crashed, exit codes, output). In deliver mode, a process
        per message, the one of message CRASHING has it."""
        spec = f"{step}:{n}" if step else ("trace", n)
        if self.mode == "deliver":
            codes, out, self.retry = [], "", []
            for i in range(COUNT):
                code, o = self.deliver(i, spec if step is None or i == CRASHING else None)
                codes.append(code)
                out += o
                if code != 0:
                    self.retry.append(i)
            return step is not None and codes[CRASHING] == CRASH, codes, out
        if self.mode == "queue-flush":
            codes = [self.deliver(i, cfg=self.enqueue_cfg)[0] for i in range(COUNT)]
            if codes != [0] * COUNT:
                raise RuntimeError(f"enqueue failed: {codes}")
        code, out = self.flush(spec) if self.mode == "queue-flush" else self.fetch(spec)
        return code == CRASH, [code], out

    def clean_run(self):
        out = ""
        codes = []
        if self.mode == "deliver":
            for i in self.retry:
                code, o = self.deliver(i)
                codes.append(code)
                out += o
        elif self.mode != "queue-flush":
            code, o = self.fetch()
            codes.append(code)
            out += o
        if self.mode not in ("deliver", "queue-flush", "imap-delete"):
            return codes, out
        code, o = self.flush()
        codes.append(code)
        out += o
        return codes, out

    def expected(self):
        """(local, smtp, {(user, folder): [messages]}) for a run without a crash."""
        m = self.msgs
        redirected = [TRACE + x for x in m]
        if self.mode == "imap-delete":
            return m, [redirected[2]], {(self.src, "INBOX"): []}
        if self.mode == "imap-move":
            return m, [], {(self.src, "INBOX"): [], (self.src, "Done"): m}
        if self.mode == "pop3-delete":
            return m, [], {(self.src, "INBOX"): []}
        if self.mode in ("deliver", "queue-flush"):
            return m, redirected, {}
        if self.mode == "imap-append":
            return [], [], {(self.src, "INBOX"): [], (self.dst, "INBOX"): m}
        if self.mode == "sift":
            folders = {(self.src, "INBOX"): []}
            folders.update({(self.src, f"Sift{i}"): [m[i - 1]] for i in range(1, COUNT + 1)})
            return m[1:], [], folders

    def cleanup(self):
        if self.mode not in ("deliver", "queue-flush"):
            for user in (self.src, self.dst):
                self.dc.doveadm("expunge", "-u", user, "mailbox", "*", "all")


def compare(label, got, want, extra_ok):
    """Every message of @want in @got once, nothing else; up to @extra_ok
    extra copies of wanted messages allowed. Returns an error or None."""
    g, w = counter(got), counter(want)
    missing = w - g
    extra = g - w
    foreign = [k for k in extra if k not in w]
    if missing or foreign:
        return (f"{label}: {sum(missing.values())} missing, {len(foreign)} not expected "
                f"({sum(g.values())} there, {sum(w.values())} expected)")
    if sum(extra.values()) > extra_ok:
        return f"{label}: {sum(extra.values())} duplicate(s), {extra_ok} allowed"
    return None


def allowed(mode, step, crashed):
    """The extra copies a crash at @step may cost: (local, smtp, server)."""
    if not crashed:
        return 0, 0, 0
    local = smtp = server = 0
    if step == "smtp-250":
        smtp += 1
    if step in ("sift-copy", "imap-append"):
        server += 1
    if mode == "deliver" and step in DELIVERED_AT:
        local += 1
        # the retry queues the redirect again once the first row was committed
        if step in ("state-commit", "smtp-250", "queue-row-delete"):
            smtp += 1
    return local, smtp, server


def one_case(dc, sink, mode, step, n, seq, users):
    """Returns (crashed, problems, output). @step None: the run without a
    crash, tracing the steps it passes into the file @n."""
    with tempfile.TemporaryDirectory(prefix="ms-crash-") as tmp:
        c = Case(dc, sink, tmp, mode, seq, users)
        try:
            crashed, codes, out1 = c.crash_run(step, n)
            problems = []
            if not crashed and any(code not in (0,) for code in codes):
                problems.append(f"the run that never reached {step} exited {codes}")
            codes2, out2 = c.clean_run()
            if any(code != 0 for code in codes2):
                problems.append(f"the clean run exited {codes2}")
            # the smarthost records after its 250: wait for the last one
            want_local, want_smtp, want_server = c.expected()
            extra_local, extra_smtp, extra_server = allowed(mode, step, crashed)
            def sent():
                tag = f"<crash-{seq}-".encode()
                return [x.data for x in list(sink.messages) if tag in x.data]
            deadline = time.monotonic() + 2
            while len(sent()) < len(want_smtp) and time.monotonic() < deadline:
                time.sleep(0.01)
            for label, got, want, extra in (
                    ("Maildir", local_mail(c.maildir), want_local, extra_local),
                    ("smarthost", sent(), want_smtp, extra_smtp)):
                e = compare(label, got, want, extra)
                if e:
                    problems.append(e)
            for (user, folder), want in want_server.items():
                e = compare(f"server {user}/{folder}", dc.list(user, folder), want, extra_server)
                if e:
                    problems.append(e)
            left = tmp_files(c.maildir)
            if left:
                problems.append(f"{len(left)} file(s) left in tmp/: {left[:3]}")
            rows, files = queue_state(c.state)
            if rows or files:
                problems.append(f"queue: {len(rows)} row(s), {len(files)} file(s) left: rows {rows} "
                                f"files {files}")
            return crashed, problems, out1 + "\n--- clean run ---\n" + out2
        finally:
            c.cleanup()


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        print("1..0 # SKIP python3-aiosmtpd is not installed (tests/install-deps.sh installs it)")
        return 0
    start = time.monotonic()
    code, out = run([MAILSIFT, "--version"], env_crash="no-such-step:1")
    check("an unknown step in MAILSIFT_CRASH_AT: exit 64, naming the known steps",
          code == 64 and all(s in out for s in STEPS), f"exit {code}\n{out}")
    code, out = run([MAILSIFT, "--version"], env_crash="spool-write")
    check("MAILSIFT_CRASH_AT without :N: exit 64", code == 64, f"exit {code}\n{out}")

    modes = ["imap-delete", "imap-move", "pop3-delete", "deliver", "queue-flush", "imap-append",
             "sift"]
    only = os.environ.get("CRASH_MODES")
    if only:
        modes = only.split(",")
    reached_by = collections.defaultdict(list)
    unreached = 0
    cases = 0
    free = queue.Queue()
    for u in USERS:
        free.put(u)
    users = {name: "secret" for pair in USERS for name in pair}
    with servers.Dovecot(users=users) as dc, servers.SmtpSink() as sink, \
            tempfile.TemporaryDirectory(prefix="ms-trace-") as traces, \
            concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:

        def task(mode, step, n, seq):
            u = free.get()
            try:
                return one_case(dc, sink, mode, step, n, seq, u)
            except Exception:  # noqa: BLE001
                return False, ["the test itself failed"], traceback.format_exc()
            finally:
                free.put(u)

        # the run without a crash of each mode: checked like the others,
        # and its trace says which steps the mode passes, how often
        seq = 0
        probes = {}
        for mode in modes:
            seq += 1
            probes[mode] = pool.submit(task, mode, None, os.path.join(traces, mode), seq)
        failures = collections.defaultdict(list)
        passes = {}
        jobs = []
        for mode in modes:
            _, problems, out = probes[mode].result()
            if problems:
                failures[mode].append("without a crash: " + "; ".join(problems) + "\n" + out[-1500:])
            trace = os.path.join(traces, mode)
            with open(trace) if os.path.exists(trace) else open(os.devnull) as f:
                passes[mode] = collections.Counter(line.strip() for line in f)
            for step in STEPS:
                # deliver: the traced run passes each step once per message,
                # a process each: N counts within the process of one
                per_run = passes[mode][step] // COUNT if mode == "deliver" else passes[mode][step]
                ns = [n for n in NS if n <= per_run]
                unreached += len(NS) - len(ns)
                for n in ns:
                    seq += 1
                    jobs.append((mode, step, n, pool.submit(task, mode, step, n, seq)))
        mode_cases = collections.Counter()
        for mode, step, n, job in jobs:
            crashed, problems, out = job.result()
            cases += 1
            mode_cases[mode] += 1
            if crashed:
                reached_by[step].append(f"{mode}:{n}")
            else:
                problems.insert(0, f"passes {step} {passes[mode][step]} times without a crash, "
                                f"but did not crash at {n}")
            if problems:
                failures[mode].append(f"{step}:{n}: " + "; ".join(problems) + "\n" + out[-1500:])
        for mode in modes:
            reached = [s for s in STEPS if passes[mode][s]]
            check(f"{mode}: {mode_cases[mode]} crash cases, at {len(reached)} steps "
                  f"({', '.join(f'{s} x{passes[mode][s]}' for s in reached)}): each message once, byte "
                  f"for byte, but for the documented windows; nothing left on the server, in tmp/ or in the queue",
                  not failures[mode], "\n".join(failures[mode]))
    never = [s for s in STEPS if not reached_by[s]]
    print(f"# {cases} crash cases in {time.monotonic() - start:.0f} s; {unreached} (mode, step, N) "
          f"of {len(modes) * len(STEPS) * len(NS)} never reach their step")
    for s in STEPS:
        print(f"# {s}: reached by {', '.join(reached_by[s]) or 'nothing'}")
    if not only:
        check(f"every crash point is reached by some mode (never reached: {never})", not never)
    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
