#!/usr/bin/python3
"""The outbound queue against a real SMTP server (python3-aiosmtpd from
tests/servers.py) on 127.0.0.1 with STARTTLS and AUTH: a redirect arrives
byte for byte plus one trace header; three redirects go in one
transaction; a redirect loop is refused; a 4xx for one recipient is
retried later while the other is delivered once; a 5xx gives a failure
notice in INBOX; a dead first smarthost fails over to the second; a
vacation reply goes out with the null sender; a sender killed while the
smarthost holds the DATA sends the message again at the next flush, and
nothing is lost or left behind. Prints TAP."""
import os
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

            # the copy comes back to us: a loop
            code, err = b.deliver(m.data if m else MSG)
            check("a message that carries our trace header is not redirected again (kept, logged)",
                  code == 0 and b.queue() == [] and "loop" in err, err)
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
            code, out = b.deliver()
            fcode = 75 if b.queue() else 0
            first = [list(x.rcpt_tos) for x in sink.messages]
            left = b.queue()
            del sink.reply_for["temp@example.net"]
            fcode2, out2 = b.flush()
            sink.wait_for(2)
            rcpts = [r for x in sink.messages for r in x.rcpt_tos]
            check("4xx for one recipient: the other delivered once, the 4xx one retried and delivered later",
                  fcode == 75 and first == [["ok@example.net"]] and len(left) == 1
                  and left[0][1] == "temp@example.net" and left[0][2] == 1 and fcode2 == 0
                  and sorted(rcpts) == ["ok@example.net", "temp@example.net"] and b.queue() == [],
                  f"{out}{out2}\nfirst {first} left {left} all {rcpts}")
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

    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
