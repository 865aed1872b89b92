#!/usr/bin/python3
"""The outbound queue against a real SMTP server (python3-aiosmtpd from
tests/servers.py) on 127.0.0.1 with STARTTLS and AUTH: a redirect arrives
byte for byte plus one trace header; three redirects go in one
transaction; a redirect loop is refused and the message kept; a 4xx for
one recipient is retried later while the other is delivered once; a 5xx
gives a failure notice in INBOX; a dead first smarthost fails over to the second; a
vacation reply goes out with the null sender; a sender killed while the
smarthost holds the DATA sends the message again at the next flush, and
nothing is lost or left behind; files in the queue folder without a row
are removed, but not one whose enqueue is in progress; under kill -9 at
random points of deliver and queue flush, every message is sent, at
most once more per kill, and nothing is left behind. Prints TAP."""
import concurrent.futures
import os
import random
import socket
import sqlite3
import subprocess
import sys
import signal
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import MAILSIFT, Results  # noqa: E402

results = Results()
check = results.check

MSG = (b"Return-Path: <alice@example.org>\nFrom: Alice <alice@example.org>\nTo: me@example.org\n"
       b"Subject: forward me\nMessage-ID: <fwd-1@example.org>\n\nHello.\n.leading dot line\nBye.\n")


class Box:
    def __init__(self, tmp, sink, script, extra_smtp=""):
        self.tmp = tmp
        self.maildir = os.path.join(tmp, "Maildir")
        self.state = os.path.join(tmp, "state")
        self.script = os.path.join(tmp, "s.sieve")
        with open(self.script, "w") as f:
            f.write(script)
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho p4ss\n")
        os.chmod(pw, 0o700)
        self.cfg = os.path.join(tmp, "config")
        with open(self.cfg, "w") as f:
            f.write(f"[general]\nmaildir = {self.maildir}\nstate_dir = {self.state}\n"
                    f"script = {self.script}\naddresses = me@example.org\n{extra_smtp}"
                    f"[smtp main]\nhost = 127.0.0.1\nport = {sink.port}\ntls = starttls\n"
                    f"ca_file = {sink.ca_file}\nuser = me\npassword_command = {pw}\n")
        os.chmod(self.cfg, 0o600)

    def deliver(self, msg=MSG, sender="alice@example.org"):
        p = subprocess.run([MAILSIFT, "deliver", "-c", self.cfg, "-f", sender, "-a", "me@example.org"],
                           input=msg, capture_output=True, timeout=60)
        return p.returncode, p.stderr.decode(errors="replace")

    def flush(self):
        p = subprocess.run([MAILSIFT, "queue", "flush", "-c", self.cfg], capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

    def queue(self):
        db = os.path.join(self.state, "state.db")
        if not os.path.exists(db):
            return []
        con = sqlite3.connect(db)
        rows = con.execute("SELECT reason, recipients, attempts FROM queue").fetchall()
        con.close()
        return rows

    def inbox(self):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            if os.path.isdir(d):
                out += [open(os.path.join(d, f), "rb").read() for f in os.listdir(d)]
        return out


class StallSmtp:
    """An SMTP server on 127.0.0.1 that takes a whole DATA and then never
    answers the final dot: where a sender can die with the message in
    flight. `dot` is set once the dot arrived."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.dot = threading.Event()
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        f = conn.makefile("rwb", buffering=0)
        try:
            f.write(b"220 stall ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"DATA":
                    f.write(b"354 go ahead\r\n")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    self.dot.set()
                    self.stop.wait(60)  # never answer
                    return
                f.write(b"221 bye\r\n" if verb == b"QUIT" else b"250 ok\r\n")
                if verb == b"QUIT":
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def killed_during_data(sink):
    """The sender is SIGKILLed after the smarthost has the whole message but
    before it answered: the entry stays queued, the next flush sends it,
    and then the queue (and its folder) is empty."""
    stall = StallSmtp()
    try:
        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            b = Box(tmp, sink, 'redirect "bob@example.net";\n')
            good = open(b.cfg).read()
            head = good[:good.index("[smtp main]")]
            with open(b.cfg, "w") as f:
                f.write(head + f"[smtp main]\nhost = 127.0.0.1\nport = {stall.port}\ntls = none\ntimeout = 5\n")
            b.deliver()  # queued; its own attempt to send times out after 5 s
            queued = b.queue()
            stall.dot.clear()
            p = subprocess.Popen([MAILSIFT, "queue", "flush", "-c", b.cfg], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            in_data = stall.dot.wait(20)
            p.send_signal(signal.SIGKILL)
            p.wait()
            after_kill = b.queue()
            with open(b.cfg, "w") as f:
                f.write(good)
            code, out = b.flush()
            sink.wait_for(1)
            qdir = os.path.join(b.state, "queue")
            left = os.listdir(qdir) if os.path.isdir(qdir) else []
            check("killed during DATA (the smarthost had the message, had not answered): still queued; "
                  "the next flush delivers it once; the queue and its folder are empty",
                  len(queued) == 1 and in_data and len(after_kill) == 1 and code == 0
                  and [m.rcpt_tos for m in sink.messages] == [["bob@example.net"]]
                  and b.queue() == [] and left == [],
                  f"queued {queued}, in DATA {in_data}, after kill {after_kill}, flush {code} {out}\n"
                  f"sent {[m.rcpt_tos for m in sink.messages]}, queue dir {left}")
    finally:
        stall.close()


def round_robin(sink):
    """smtp_balance = round-robin: four messages, sent one per `deliver`,
    are spread over two smarthosts; with one of them down, all go to the
    other."""
    with servers.SmtpSink(starttls=True, user="me", password="p4ss") as other:
        for down in (False, True):
            sink.messages.clear()
            with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
                port = closed_port() if down else other.port
                extra = (f"smtp_balance = round-robin\n[smtp second]\nhost = 127.0.0.1\nport = {port}\n"
                         f"tls = starttls\nca_file = {other.ca_file}\nuser = me\n"
                         f"password_command = {os.path.join(tmp, 'pw')}\n")
                b = Box(tmp, sink, 'redirect "bob@example.net";\n', extra_smtp=extra)
                codes = [b.deliver()[0] for _ in range(4)]
                sink.wait_for(4 if down else 2)
                if not down:
                    other.wait_for(2)
                got = (len(other.messages), len(sink.messages))
                if down:
                    check("round-robin with one smarthost down: all 4 go to the other one",
                          codes == [0] * 4 and got == (0, 4) and b.queue() == [], f"{codes} {got} {b.queue()}")
                else:
                    check("smtp_balance = round-robin: 4 messages, 2 through each smarthost",
                          codes == [0] * 4 and got == (2, 2) and b.queue() == [], f"{codes} {got} {b.queue()}")
            other.messages.clear()


def loop_guard(sink, looped):
    """A copy we redirected comes back to us (it carries our trace header)
    and the script holds nothing but a redirect: the loop guard refuses
    the redirect, and the message must then be kept in INBOX byte for
    byte, not dropped, and nothing queued."""
    before = len(sink.messages)
    with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
        b = Box(tmp, sink, 'redirect "bob@example.net";\n')
        code, err = b.deliver(looped)
        qdir = os.path.join(b.state, "queue")
        files = os.listdir(qdir) if os.path.isdir(qdir) else []
        inbox = b.inbox()
        check("a message that carries our trace header, with a script that only redirects: not "
              "redirected again but kept in INBOX byte for byte; nothing queued; exit 0",
              code == 0 and inbox == [looped] and b.queue() == [] and files == []
              and len(sink.messages) == before and "kept instead" in err,
              f"deliver {code} {err}\ninbox {[m[:80] for m in inbox]}\nqueue {b.queue()} files {files}\n"
              f"sent {len(sink.messages) - before}")


def plain_box(tmp, sink, script='redirect "bob@example.net";\n'):
    """Configs without TLS for speed: `enqueue` has no smarthost, so
    deliver only queues; `send` has the sink."""
    maildir, state = os.path.join(tmp, "Maildir"), os.path.join(tmp, "state")
    with open(os.path.join(tmp, "s.sieve"), "w") as f:
        f.write(script)
    base = (f"[general]\nmaildir = {maildir}\nstate_dir = {state}\nscript = {os.path.join(tmp, 's.sieve')}\n"
            f"addresses = me@example.org\n")
    cfgs = {}
    for name, extra in (("enqueue", ""), ("send", f"[smtp main]\nhost = 127.0.0.1\nport = {sink.port}\ntls = none\n")):
        cfgs[name] = os.path.join(tmp, name + ".conf")
        with open(cfgs[name], "w") as f:
            f.write(base + extra)
        os.chmod(cfgs[name], 0o600)
    return state, cfgs


def queue_rows(state):
    db = os.path.join(state, "state.db")
    if not os.path.exists(db):
        return []
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, file FROM queue").fetchall()
    con.close()
    return rows


def left_overs(sink):
    """Files in state/queue/ that no queue row names (what a crash between
    removing a row and its file leaves) are removed by the next flush;
    files with other names are not touched; a file whose enqueue is still
    in progress (its writer holds the state store's write lock, the row
    not committed yet) is not taken for a left-over: the flush waits for
    the commit and sends it."""
    with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
        state, cfg = plain_box(tmp, sink)
        p = subprocess.run([MAILSIFT, "deliver", "-c", cfg["enqueue"], "-f", "alice@example.org",
                            "-a", "me@example.org"], input=MSG, capture_output=True, timeout=60)
        qdir = os.path.join(state, "queue")
        orphan = os.path.join(qdir, "1700000000-0123456789abcdef")
        other = os.path.join(qdir, "notes.txt")
        for path in (orphan, other):
            with open(path, "wb") as f:
                f.write(b"Subject: left over\n\nx\n")
        before = len(sink.messages)
        f = subprocess.run([MAILSIFT, "queue", "flush", "-c", cfg["send"]], capture_output=True, timeout=60)
        sink.wait_for(before + 1)
        check("a queue file that no row names is removed by the next flush; other files stay",
              p.returncode == 0 and f.returncode == 0 and not os.path.exists(orphan) and os.path.exists(other)
              and len(sink.messages) == before + 1 and queue_rows(state) == [],
              f"deliver {p.returncode} {p.stderr!r}\nflush {f.returncode} {f.stdout!r} {f.stderr!r}\n"
              f"files {os.listdir(qdir)} sent {len(sink.messages) - before}")
        os.unlink(other)

        # an enqueue in progress, as mailsift writes one: the write lock,
        # the file, then (a second later) the row and the commit
        qid = "1800000000-fedcba9876543210"
        path = os.path.join(qdir, qid)
        con = sqlite3.connect(os.path.join(state, "state.db"), isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        with open(path, "wb") as f:
            f.write(b"Subject: in progress\nMessage-ID: <busy@example.org>\n\nx\n")
        before = len(sink.messages)
        flush = subprocess.Popen([MAILSIFT, "queue", "flush", "-c", cfg["send"]], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        time.sleep(1.0)
        kept = os.path.exists(path)
        now = int(time.time())
        con.execute("INSERT INTO queue (id, created, reason, envelope_from, recipients, origin, file, "
                    "next_try) VALUES (?, ?, 'redirect', 'me@example.org', 'carol@example.net', "
                    "'<busy@example.org>', ?, ?)", (qid, now, path, now))
        con.execute("COMMIT")
        con.close()
        out, err = flush.communicate(timeout=60)
        try:
            got = sink.wait_for(before + 1)[before:]
        except TimeoutError:
            got = []
        check("a queue file whose enqueue is in progress (write lock held, row not yet committed) "
              "is not removed by a flush running meanwhile; once committed it is sent",
              kept and flush.returncode == 0 and [m.rcpt_tos for m in got] == [["carol@example.net"]]
              and queue_rows(state) == [] and os.listdir(qdir) == [],
              f"kept {kept} flush {flush.returncode} {out!r} {err!r}\nsent {[m.rcpt_tos for m in got]}\n"
              f"rows {queue_rows(state)} files {os.listdir(qdir)}")


def kill_campaign():
    """Random SIGKILLs while the queue is filled and sent: 200 redirects
    queued by `deliver` (some of those killed and run again, as an MTA
    retries), then `queue flush` killed 20 times at random points, then a
    clean flush. Every message reaches the smarthost, byte for byte; a
    duplicate only from a kill (at most one per kill: the window between
    the smarthost's 250 and the commit that records it); no queue row and
    no file in state/queue/ is left."""
    n, deliver_kills_wanted, flush_kills_wanted = 200, 10, 20
    seed = int(os.environ.get("MAILSIFT_TEST_SEED", str(time.time_ns() % 1000000)))
    rng = random.Random(seed)
    trace = b"X-Mailsift-Redirected: me@example.org; redirected to bob@example.net\n"
    msgs = [(f"From: alice@example.org\nTo: me@example.org\nSubject: kill {i}\nMessage-ID: <kill-{i}@example.org>\n"
             f"\nmessage {i}\n.a dot line\n").encode() for i in range(n)]
    with servers.SmtpSink() as sink, tempfile.TemporaryDirectory(prefix="ms-qk-") as tmp:
        state, cfg = plain_box(tmp, sink)
        qdir = os.path.join(state, "queue")
        deliver = [MAILSIFT, "deliver", "-c", cfg["enqueue"], "-f", "alice@example.org", "-a", "me@example.org"]
        to_kill = set(rng.sample(range(n), deliver_kills_wanted))
        delays = {i: rng.uniform(0.0, 0.15) for i in to_kill}
        deliver_kills = 0
        lock = threading.Lock()

        def enqueue(i):
            nonlocal deliver_kills
            if i in to_kill:
                p = subprocess.Popen(deliver, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                try:
                    p.stdin.write(msgs[i])
                    p.stdin.close()
                except BrokenPipeError:
                    pass
                time.sleep(delays[i])
                if p.poll() is None:
                    p.kill()
                    with lock:
                        deliver_kills += 1
                p.wait()
                if p.returncode == 0:
                    return 0
            return subprocess.run(deliver, input=msgs[i], capture_output=True, timeout=60).returncode

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            codes = list(pool.map(enqueue, range(n)))

        flush_kills, runs, seen_left_over = 0, 0, set()
        while flush_kills < flush_kills_wanted and runs < 200:
            runs += 1
            p = subprocess.Popen([MAILSIFT, "queue", "flush", "-c", cfg["send"]], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            # at a random point: after 0 to 8 more messages reached the
            # smarthost, and then up to 10 ms
            target, deadline = len(sink.messages) + rng.randint(0, 8), time.monotonic() + 20
            while len(sink.messages) < target and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.01))
            if p.poll() is None:
                p.kill()
                flush_kills += 1
            p.wait()
            if os.path.isdir(qdir):
                named = {os.path.basename(f) for _, f in queue_rows(state)}
                seen_left_over |= set(os.listdir(qdir)) - named
            if p.returncode == 0:
                break
        final = subprocess.run([MAILSIFT, "queue", "flush", "-c", cfg["send"]], capture_output=True, timeout=120)
        got = {}
        for m in sink.messages:
            body = m.data.replace(b"\r\n", b"\n")
            got.setdefault(body, 0)
            got[body] += 1
        missing = [i for i in range(n) if trace + msgs[i] not in got]
        strange = len([b for b in got if b not in {trace + m for m in msgs}])
        dups = sum(c - 1 for c in got.values())
        files = os.listdir(qdir) if os.path.isdir(qdir) else []
        print(f"# kill campaign, seed {seed}: {deliver_kills} deliver and {flush_kills} flush kills, "
              f"{dups} duplicates, {len(seen_left_over)} files without a row seen between kills, "
              f"{len(files)} left after the clean flush")
        check(f"kill -9: {n} redirects queued ({deliver_kills} deliver runs killed), queue flush killed "
              f"{flush_kills} times: every message sent byte for byte, at most one duplicate per kill; "
              f"after a clean flush no queue row and no file is left",
              codes == [0] * n and final.returncode == 0 and not missing and not strange
              and dups <= deliver_kills + flush_kills and queue_rows(state) == [] and files == [],
              f"seed {seed} (MAILSIFT_TEST_SEED repeats it); deliver exits {sorted(set(codes))}; "
              f"final flush {final.returncode} {final.stderr[-300:]!r}\n"
              f"received {len(sink.messages)}, missing {missing[:10]}, not ours {strange}, duplicates {dups}; "
              f"files without a row seen between kills {len(seen_left_over)}; left: rows {queue_rows(state)[:5]} "
              f"files {files[:5]} ({len(files)})")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        print("1..0 # SKIP python3-aiosmtpd is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.SmtpSink(starttls=True, user="me", password="p4ss") as sink:
        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            b = Box(tmp, sink, 'redirect "bob@example.net";\nkeep;\n')
            code, err = b.deliver()
            fcode, out = b.flush()  # deliver already sent it: nothing left
            got = sink.wait_for(1)
            m = sink.messages[0] if sink.messages else None
            body = m.data.replace(b"\r\n", b"\n") if m else b""
            trace = b"X-Mailsift-Redirected: me@example.org; redirected to bob@example.net\n"
            check("redirect: queued durably, then sent before deliver exits, byte for byte plus one trace header",
                  code == 0 and fcode == 0 and m is not None and len(sink.messages) == 1
                  and body == trace + MSG and m.rcpt_tos == ["bob@example.net"]
                  and m.mail_from == "me@example.org" and m.auth_user == "me" and m.tls,
                  f"deliver {code} {err}\nflush {fcode} {out}\n{m and (m.mail_from, m.rcpt_tos, m.tls, m.auth_user)}\n{body[:300]!r}")
            check("the queue is empty after a successful flush", b.queue() == [], str(b.queue()))

            loop_guard(sink, body if m else trace + MSG)
        sink.messages.clear()

        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            b = Box(tmp, sink, 'redirect "a@example.net";\nredirect "b@example.net";\nredirect "c@example.net";\n')
            b.deliver()
            fcode, out = b.flush()
            sink.wait_for(1)
            check("three redirects: one transaction with three recipients",
                  fcode == 0 and len(sink.messages) == 1
                  and sorted(sink.messages[0].rcpt_tos) == ["a@example.net", "b@example.net", "c@example.net"],
                  f"{out}\n{[x.rcpt_tos for x in sink.messages]}")
        sink.messages.clear()

        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            sink.reply_for["temp@example.net"] = "450 4.2.1 try later"
            b = Box(tmp, sink, 'redirect "ok@example.net";\nredirect "temp@example.net";\n')
            code, out = b.deliver()  # sends at once: ok@ accepted, temp@ 450
            first = [list(x.rcpt_tos) for x in sink.messages]
            left = b.queue()
            fcode, out1 = b.flush()  # still 450: left for later, exit 75
            again = [list(x.rcpt_tos) for x in sink.messages]
            left1 = b.queue()
            del sink.reply_for["temp@example.net"]
            fcode2, out2 = b.flush()
            sink.wait_for(2)
            rcpts = [r for x in sink.messages for r in x.rcpt_tos]
            check("4xx for one recipient: deliver exits 0, the other is delivered once; a flush "
                  "while the 4xx lasts exits 75; the 4xx one is delivered later",
                  code == 0 and first == [["ok@example.net"]] and left == [("redirect", "temp@example.net", 1)]
                  and fcode == 75 and again == first and left1 == [("redirect", "temp@example.net", 2)]
                  and fcode2 == 0 and sorted(rcpts) == ["ok@example.net", "temp@example.net"]
                  and b.queue() == [],
                  f"deliver {code} {out}\nflush {fcode} {out1}\nflush {fcode2} {out2}\n"
                  f"first {first} left {left} then {again} {left1} all {rcpts}")
        sink.messages.clear()

        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            sink.reply_for["bad@example.net"] = "550 5.1.1 no such user"
            b = Box(tmp, sink, 'redirect "bad@example.net";\n')
            b.deliver()
            fcode, out = b.flush()
            notices = [m for m in b.inbox() if b"Not delivered" in m]
            check("5xx: given up, a failure notice with the server's answer and the whole message lands in INBOX",
                  fcode == 0 and b.queue() == [] and len(notices) == 1 and b"550 5.1.1 no such user" in notices[0]
                  and b"Subject: forward me" in notices[0] and b"\n.leading dot line\nBye.\n" in notices[0], out)
            del sink.reply_for["bad@example.net"]
        sink.messages.clear()

        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            dead = f"[smtp dead]\nhost = 127.0.0.1\nport = {closed_port()}\ntls = starttls\nca_file = {sink.ca_file}\n"
            b = Box(tmp, sink, 'redirect "bob@example.net";\n', extra_smtp=dead)
            code, err = b.deliver()
            fcode, out = b.flush()
            out = err + out
            sink.wait_for(1)
            check("first smarthost down: the second is used", fcode == 0 and len(sink.messages) == 1
                  and "trying the next smarthost" in out, out)
        sink.messages.clear()

        with tempfile.TemporaryDirectory(prefix="ms-q-") as tmp:
            b = Box(tmp, sink, 'require "vacation";\nvacation :subject "Away" "I am away.";\n')
            b.deliver()
            fcode, out = b.flush()
            sink.wait_for(1)
            m = sink.messages[0] if sink.messages else None
            check("vacation: sent with the null sender to the original sender, Auto-Submitted",
                  fcode == 0 and m is not None and m.mail_from in ("<>", "") and m.rcpt_tos == ["alice@example.org"]
                  and b"Auto-Submitted: auto-replied" in m.data and b"In-Reply-To: <fwd-1@example.org>" in m.data,
                  f"{out}\n{m and (m.mail_from, m.rcpt_tos)}")

        sink.messages.clear()
        killed_during_data(sink)
        round_robin(sink)
        sink.messages.clear()
        left_overs(sink)
    kill_campaign()

    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
