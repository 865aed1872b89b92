#!/usr/bin/python3
"""Fault injection: `mailsift fetch` and `mailsift run` against small scripted
POP3 and IMAP servers (and an SMTP one) on 127.0.0.1 (plaintext, `tls = none`)
that serve
messages from memory and misbehave on request:

  1. POP3 connection dropped in the middle of RETR of message 3
  2. IMAP connection dropped in the middle of the BODY[] literal of message 3
  3. POP3 UIDL/LIST with message number 0, an overflowing number and garbage
  4. IMAP greeting `* OK [BADCHARSET ("UTF-8")] ready` (crashes libetpan 1.9.4;
     the network layer refuses it before libetpan parses it)
  5. IMAP SELECT reply with `* OK [PERMANENTFLAGS (\\x01] x` (the same)
  6. servers that accept and never answer, and one that stalls mid-literal
  7. `mailsift run` while each account process is killed (SIGKILL) as it
     connects: backoff, recovery, SIGTERM
  8. IMAP UID FETCH answered with a tagged NO (Gmail: "Some messages could not
     be FETCHed"), after the other messages' FETCH responses or instead of them
  9. one message of 15 (or of 140: two batches) the server will not return:
     IMAP tagged NO, POP3 -ERR to its RETR
 10. IMAP listing, and the Message-ID fetch after a UIDVALIDITY change, cut
     short by a tagged NO
 11. a password_command that never ends, and one that leaves a child holding
     its output (command_timeout)
 12. STARTTLS (IMAP, SMTP) and STLS (POP3) answered together with injected
     data before the TLS handshake
 13. a smarthost that drops the connection at DATA: the redirect stays
     queued and goes out once on the next flush

Each case checks the Maildir byte for byte against what the server sent and
the server's command log (no DELE / UID STORE \\Deleted / EXPUNGE for a
message that was not delivered). Needs only Debian's python3. Prints TAP."""
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")
HOST = "127.0.0.1"
FETCH_TIMEOUT = 30  # a fetch that takes longer than this is a hang
DROP_TIMEOUT = 12   # after the server closed the connection (account timeout = 5)

BADCHARSET_GREETING = b'* OK [BADCHARSET ("UTF-8")] ready\r\n'
BAD_PERMANENTFLAGS = b"* OK [PERMANENTFLAGS (\x01] x\r\n"


# ------------------------------------------------------------------ messages

def message(i, size=3000):
    """Message i as mailsift must deliver it (LF line ends). It has lines that
    need POP3 dot-stuffing, 8-bit text and a long line."""
    head = (f"From: sender{i}@example.org\nTo: test@example.org\n"
            f"Subject: fault message {i}\nMessage-ID: <fault{i}.{os.getpid()}@example.org>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n")
    body = [f".a line starting with a dot in message {i}", ".", "..", "caf\u00e9 Gr\u00fc\u00dfe \u2603",
            "long " + "y" * 990]
    j = 0
    while sum(len(b) + 1 for b in body) < size:
        body.append(f"line {j} of message {i} " + "x" * 50)
        j += 1
    body.append(f"end of message {i}")
    return (head + "\n".join(body) + "\n").encode()


def crlf(msg):
    return msg.replace(b"\n", b"\r\n")


def subject(msg):
    m = re.search(rb"^Subject: (.*)$", msg, re.M)
    return m.group(1).decode(errors="replace") if m else f"<no subject, {len(msg)} bytes>"


# ------------------------------------------------------------------ servers

class Box:
    """A mailbox in memory, shared by the sessions of one fake server, with
    the commands every session sent and the faults to inject."""

    def __init__(self, msgs, uid_step=1):
        self.lock = threading.Lock()
        self.msgs = [(uid_step * (n + 1), m) for n, m in enumerate(msgs)]  # (uid, LF text)
        self.next_uid = uid_step * (len(msgs) + 1)
        self.flags = {}
        self.log = []  # (session, command line, uid the server resolved or None)
        self.sessions = 0
        self.fault = {}
        self.uidvalidity = 7777

    def add(self, msg):
        with self.lock:
            self.msgs.append((self.next_uid, msg))
            self.next_uid += 1

    def new_session(self):
        with self.lock:
            self.sessions += 1
            return self.sessions

    def record(self, session, line, uid=None):
        with self.lock:
            self.log.append((session, line, uid))

    def uids(self):
        with self.lock:
            return [u for u, _ in self.msgs]

    def commands(self, verb, session=None):
        """Log entries whose command starts with @verb (case-insensitive)."""
        return [(s, line, uid) for s, line, uid in self.log
                if line.upper().startswith(verb.upper()) and (session is None or s == session)]


class FakeServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, box):
        self.box = box
        self.stop_event = threading.Event()
        self.conns = []
        super().__init__((HOST, 0), handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.stop_event.set()
        self.shutdown()
        self.server_close()
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.server.conns.append(self.request)
        self.box = self.server.box
        self.session = self.box.new_session()

    def send(self, data):
        self.request.sendall(data)

    def drop(self):
        """Close the connection at once (the client sees EOF)."""
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.request.close()

    def kill_client(self):
        """SIGKILL the process at the other end of this connection (found by
        its socket's inode in /proc), as a crash of that process would."""
        port = self.client_address[1]
        inode = None
        with open("/proc/net/tcp") as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if int(cols[1].split(":")[1], 16) == port and int(cols[2].split(":")[1], 16) == self.server.port:
                    inode = cols[9]
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in fds):
                    os.kill(int(pid), signal.SIGKILL)
                    return
            except OSError:
                continue

    def hold(self):
        """Keep the connection open, say nothing (until the test ends)."""
        self.server.stop_event.wait(60)

    def readline(self):
        try:
            line = self.rfile.readline(100000)
        except OSError:
            return None
        return line.rstrip(b"\r\n").decode("latin-1") if line else None


class Pop3Handler(Handler):
    """USER/PASS, CAPA, STAT, UIDL, LIST, RETR, TOP, DELE (committed only by
    QUIT), NOOP, RSET, QUIT. Faults: silent, drop_retr_uid, bad_listing,
    refuse_uids (RETR of one of them is answered -ERR), pipelining (CAPA
    offers it), starttls_inject (STLS is answered +OK followed by these
    bytes in the same write, and TLS never starts; without it STLS gets
    -ERR), quit_unanswered ("deleted" or "kept": QUIT drops the connection
    without an answer, after or without carrying out the DELEs)."""

    REFUSAL = b"-ERR cannot read this message from the store"

    def handle(self):
        box, fault = self.box, self.box.fault
        if fault.get("silent"):
            return self.hold()
        self.send(b"+OK fake POP3 ready\r\n")
        with box.lock:
            view = list(box.msgs)  # message n is view[n - 1]
        pending = set()

        def lookup(arg):
            try:
                n = int(arg)
            except ValueError:
                return None
            return view[n - 1] if 1 <= n <= len(view) and n not in pending else None

        while True:
            line = self.readline()
            if line is None:
                return  # dropped without QUIT: the DELEs are not committed
            parts = line.split()
            verb = parts[0].upper() if parts else ""
            arg = parts[1] if len(parts) > 1 else ""
            m = lookup(arg) if verb in ("RETR", "DELE", "TOP") else None
            box.record(self.session, "PASS ***" if verb == "PASS" else line, m[0] if m else None)
            if verb in ("USER", "PASS", "NOOP"):
                self.send(b"+OK\r\n")
            elif verb == "CAPA":
                self.send(b"+OK\r\nUSER\r\nUIDL\r\n" + (b"PIPELINING\r\n" if fault.get("pipelining")
                                                             else b"") + b".\r\n")
            elif verb == "STLS" and "starttls_inject" in fault:
                # the go-ahead and injected text in one write, then no TLS
                self.send(b"+OK begin TLS negotiation\r\n" + fault["starttls_inject"])
                return self.hold()
            elif verb == "STAT":
                live = [v for n, v in enumerate(view, 1) if n not in pending]
                self.send(b"+OK %d %d\r\n" % (len(live), sum(len(crlf(x)) for _, x in live)))
            elif verb in ("UIDL", "LIST") and not arg:
                out = [b"+OK listing follows\r\n"]
                bad = fault.get("bad_listing", [])
                out += [b + b"\r\n" for b in bad[:len(bad) // 2]]
                for n, (uid, msg) in enumerate(view, 1):
                    if n not in pending:
                        value = b"uid-%d" % uid if verb == "UIDL" else b"%d" % self.size(uid, msg)
                        out.append(b"%d %s\r\n" % (n, value))
                out += [b + b"\r\n" for b in bad[len(bad) // 2:]]
                self.send(b"".join(out) + b".\r\n")
            elif verb == "RETR":
                if m is None:
                    self.send(b"-ERR no such message\r\n")
                    continue
                if m[0] in fault.get("refuse_uids", ()):
                    self.send(self.REFUSAL + b"\r\n")
                    continue
                if self.send_message(*m):
                    continue
                lines = m[1].split(b"\n")[:-1]
                wire = b"".join((b"." + x if x.startswith(b".") else x) + b"\r\n" for x in lines)
                if fault.get("drop_retr_uid") == m[0]:
                    self.send(b"+OK %d octets\r\n" % len(crlf(m[1])) + wire[:len(wire) // 2])
                    time.sleep(0.1)
                    return self.drop()
                self.send(b"+OK %d octets\r\n" % len(crlf(m[1])) + wire + b".\r\n")
            elif verb == "TOP":
                if m is None or len(parts) < 3 or not parts[2].isdigit():
                    self.send(b"-ERR no such message\r\n")
                    continue
                head, _, body = m[1].partition(b"\n\n")
                lines = head.split(b"\n") + [b""] + body.split(b"\n")[:-1][:int(parts[2])]
                wire = b"".join((b"." + x if x.startswith(b".") else x) + b"\r\n" for x in lines)
                self.send(b"+OK top of message follows\r\n" + wire + b".\r\n")
            elif verb == "DELE":
                if m is None:
                    self.send(b"-ERR no such message\r\n")
                else:
                    pending.add(int(arg))
                    self.send(b"+OK marked\r\n")
            elif verb == "RSET":
                pending.clear()
                self.send(b"+OK\r\n")
            elif verb == "QUIT":
                gone = {view[n - 1][0] for n in pending}
                if fault.get("quit_unanswered") != "kept":
                    with box.lock:
                        box.msgs = [x for x in box.msgs if x[0] not in gone]
                if fault.get("quit_unanswered"):
                    return self.drop()
                self.send(b"+OK bye\r\n")
                return
            else:
                self.send(b"-ERR unknown command\r\n")

    def size(self, uid, msg):
        """The size LIST gives for a message (a subclass may lie)."""
        return len(crlf(msg))

    def send_message(self, uid, msg):
        """A subclass may answer RETR itself: True when it did."""
        return False


def parse_set(text, largest):
    """IMAP sequence set -> predicate on numbers."""
    ranges = []
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo = largest if a == "*" else int(a)
        hi = lo if not b else (largest if b == "*" else int(b))
        ranges.append((min(lo, hi), max(lo, hi)))
    return lambda n: any(lo <= n <= hi for lo, hi in ranges)


class ImapHandler(Handler):
    """CAPABILITY, LOGIN, SELECT, FETCH, UID FETCH, UID STORE, UID EXPUNGE,
    EXPUNGE, IDLE, NOOP, LOGOUT. Faults: silent, greeting, select_extra,
    drop_body_uid, stall_body_uid, idle_blackhole, refuse_uids (a body fetch
    that names one of them is answered with a tagged NO; with refuse_whole no
    FETCH response comes before it, else those of the other messages do),
    refuse_list_uids (a fetch without a body leaves them out and ends in NO),
    starttls_inject (STARTTLS is answered OK followed by these bytes in the
    same write, and TLS never starts; without it STARTTLS gets BAD)."""

    REFUSAL = b"Some messages could not be FETCHed (Failure)"

    CAPS = b"IMAP4rev1 UIDPLUS IDLE"

    def handle(self):
        box, fault = self.box, self.box.fault
        if fault.get("silent"):
            return self.hold()
        if fault.get("kill"):
            return self.kill_client()
        self.send(fault.get("greeting") or b"* OK [CAPABILITY " + self.CAPS + b"] fake IMAP ready\r\n")
        while True:
            line = self.readline()
            if line is None:
                return
            tag, _, rest = line.partition(" ")
            words = rest.split(" ")
            verb = words[0].upper()
            uid_cmd = verb == "UID" and len(words) > 1
            if uid_cmd:
                verb = words[1].upper()
                words = words[1:]
            box.record(self.session, (" ".join(words[:2]) + " ***") if verb == "LOGIN"
                       else ("UID " if uid_cmd else "") + " ".join(words))
            t = tag.encode()
            if verb == "CAPABILITY":
                self.send(b"* CAPABILITY " + self.CAPS + b"\r\n" + t + b" OK done\r\n")
            elif verb == "STARTTLS" and "starttls_inject" in fault:
                # the go-ahead and injected text in one write, then no TLS
                self.send(t + b" OK begin TLS negotiation now\r\n" + fault["starttls_inject"])
                return self.hold()
            elif verb in ("LOGIN", "NOOP", "CHECK"):
                self.send(t + b" OK done\r\n")
            elif verb in ("SELECT", "EXAMINE"):
                with box.lock:
                    n, uidnext = len(box.msgs), box.next_uid
                out = [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
                       b"* %d EXISTS\r\n" % n, b"* 0 RECENT\r\n"]
                if fault.get("select_extra"):
                    out.append(fault["select_extra"])
                out += [b"* OK [UIDVALIDITY %d] UIDs valid\r\n" % box.uidvalidity,
                        b"* OK [UIDNEXT %d] predicted\r\n" % uidnext,
                        t + b" OK [READ-WRITE] selected\r\n"]
                self.send(b"".join(out))
            elif verb == "FETCH" and len(words) >= 3:
                if not self.fetch(t, words[1], " ".join(words[2:]).upper(), uid_cmd):
                    return
            elif verb == "STORE" and uid_cmd and len(words) >= 4:
                with box.lock:
                    match = parse_set(words[1], box.msgs[-1][0] if box.msgs else 0)
                    flags = set(" ".join(words[3:]).strip("()").split())
                    for uid, _ in box.msgs:
                        if match(uid):
                            cur = box.flags.setdefault(uid, set())
                            if words[2].startswith("-"):
                                cur -= flags
                            else:
                                cur |= flags
                self.send(t + b" OK stored\r\n")
            elif verb == "EXPUNGE":
                out = []
                with box.lock:
                    match = (parse_set(words[1], box.msgs[-1][0] if box.msgs else 0)
                             if uid_cmd and len(words) > 1 else (lambda u: True))
                    n = 0
                    while n < len(box.msgs):
                        uid = box.msgs[n][0]
                        if match(uid) and "\\Deleted" in box.flags.get(uid, ()):
                            del box.msgs[n]
                            out.append(b"* %d EXPUNGE\r\n" % (n + 1))
                        else:
                            n += 1
                self.send(b"".join(out) + t + b" OK expunged\r\n")
            elif verb == "IDLE":
                self.send(b"+ idling\r\n")
                line = self.readline()
                if line is None:
                    return
                box.record(self.session, line)
                if fault.get("idle_blackhole"):
                    # a connection a NAT dropped: DONE is never answered
                    return self.hold()
                self.send(t + b" OK idle done\r\n")
            elif verb == "LOGOUT":
                self.send(b"* BYE bye\r\n" + t + b" OK logged out\r\n")
                return
            else:
                self.send(t + b" BAD not implemented here\r\n")

    def fetch(self, t, set_text, items, by_uid):
        box, fault = self.box, self.box.fault
        with box.lock:
            msgs = list(box.msgs)
        if not msgs:
            self.send(t + b" OK nothing\r\n")
            return True
        match = parse_set(set_text, msgs[-1][0] if by_uid else len(msgs))
        refuse = fault.get("refuse_uids" if "BODY" in items else "refuse_list_uids", ())
        refused = [uid for seq, (uid, _) in enumerate(msgs, 1)
                   if match(uid if by_uid else seq) and uid in refuse]
        if refused and fault.get("refuse_whole"):
            self.send(t + b" NO " + self.REFUSAL + b"\r\n")
            return True
        for seq, (uid, msg) in enumerate(msgs, 1):
            if not match(uid if by_uid else seq) or uid in refused:
                continue
            parts = [b"UID %d" % uid]
            if "RFC822.SIZE" in items:
                parts.append(b"RFC822.SIZE %d" % self.size(uid, msg))
            head = b"* %d FETCH (" % seq + b" ".join(parts)
            if "BODY" not in items:
                self.send(head + b")\r\n")
                continue
            if self.send_body(head, uid, msg):
                continue
            lit = crlf(msg)
            head += b" BODY[] {%d}\r\n" % len(lit)
            if uid in (fault.get("drop_body_uid"), fault.get("stall_body_uid")):
                self.send(head + lit[:len(lit) // 2])
                time.sleep(0.1)
                if uid == fault.get("stall_body_uid"):
                    self.hold()
                self.drop()
                return False
            self.send(head + lit + b")\r\n")
        self.send(t + (b" NO " + self.REFUSAL if refused else b" OK fetched") + b"\r\n")
        return True

    def size(self, uid, msg):
        """The RFC822.SIZE given for a message (a subclass may lie)."""
        return len(crlf(msg))

    def send_body(self, head, uid, msg):
        """A subclass may send the rest of a body FETCH response ("* n FETCH
        (UID u" is @head) itself: True when it did."""
        return False


class SmtpHandler(Handler):
    """Just enough of a smarthost for `mailsift queue flush` to reach
    STARTTLS: EHLO offers it; with the starttls_inject fault the 220 comes
    with these bytes in the same write and TLS never starts, without it
    STARTTLS gets 454. MAIL, RCPT and DATA are accepted (what DATA brings
    goes to box.received); the drop_at fault drops the connection at that
    command instead. Everything else: 502."""

    def handle(self):
        box, fault = self.box, self.box.fault
        self.send(b"220 fake ESMTP ready\r\n")
        while True:
            line = self.readline()
            if line is None:
                return
            verb = line.split(" ")[0].upper()
            box.record(self.session, "AUTH ***" if verb == "AUTH" else line)
            if verb in ("EHLO", "HELO"):
                self.send(b"250-fake\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
            elif verb == "STARTTLS" and "starttls_inject" in fault:
                self.send(b"220 ready to start TLS\r\n" + fault["starttls_inject"])
                return self.hold()
            elif verb == "STARTTLS":
                self.send(b"454 TLS not available\r\n")
            elif verb == fault.get("drop_at"):
                return self.drop()
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.send(b"250 ok\r\n")
            elif verb == "DATA":
                self.send(b"354 go on\r\n")
                data = []
                while True:
                    line = self.readline()
                    if line is None:
                        return
                    if line == ".":
                        break
                    data.append(line[1:] if line.startswith(".") else line)
                box.received.append("\n".join(data))
                self.send(b"250 queued\r\n")
            elif verb == "QUIT":
                self.send(b"221 bye\r\n")
                return
            else:
                self.send(b"502 not here\r\n")


# ------------------------------------------------------------------ harness

class Setup:
    """A config with one or more accounts on fake servers, and its Maildir."""

    def __init__(self, tmp, accounts):
        self.tmp = tmp
        self.maildir = os.path.join(tmp, "Maildir")
        self.cfg = os.path.join(tmp, "config")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(pw, 0o700)
        lines = ["[general]", f"maildir = {self.maildir}", f"state_dir = {tmp}/state"]
        for name, acct in accounts.items():
            a = {"host": HOST, "tls": "none", "user": "test", "password_command": pw, "timeout": "10"}
            a.update(acct)
            lines.append(f"[account {name}]")
            lines += [f"{k} = {v}" for k, v in a.items()]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.cfg, 0o600)

    def fetch(self, timeout=FETCH_TIMEOUT):
        """(exit status, stdout + stderr, seconds); exit None if it hung (then
        the output says what its processes were doing)."""
        start = time.monotonic()
        p = subprocess.Popen([MAILSIFT, "fetch", "-c", self.cfg], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            why = describe_hang(p.pid)
            p.kill()
            out, _ = p.communicate()
            return (None, f"HUNG: mailsift fetch still running after {timeout} s, killed.\n{why}"
                    + out.decode(errors="replace"), timeout)
        return p.returncode, out.decode(errors="replace"), time.monotonic() - start

    def delivered(self):
        out = []
        for d, _, files in os.walk(self.maildir):
            if os.path.basename(d) in ("new", "cur"):
                for f in files:
                    with open(os.path.join(d, f), "rb") as fh:
                        out.append(fh.read())
        return out

    def tmp_files(self):
        tmp = os.path.join(self.maildir, "tmp")
        return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


def proc_children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def proc_state(pid):
    """(state letter, utime + stime in ticks), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def describe_hang(pid):
    """One line per process of a hung mailsift: its state and CPU use."""
    pids = [pid] + proc_children(pid)
    before = {p: proc_state(p) for p in pids}
    time.sleep(1.0)
    lines = []
    hz = os.sysconf("SC_CLK_TCK")
    for p in pids:
        a, b = before[p], proc_state(p)
        if a is None or b is None:
            continue
        cpu = 100.0 * (b[1] - a[1]) / hz
        try:
            with open(f"/proc/{p}/wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            wchan = "?"
        what = "main process" if p == pid else "account process"
        lines.append(f"{what} {p}: state {b[0]}, wchan {wchan}, {cpu:.0f}% CPU over 1 s"
                     + (" (busy loop)" if cpu > 50 else ""))
    return "\n".join(lines) + "\n"


def compare(got, want):
    """'' when @got holds exactly the messages of @want (byte for byte, each
    once), else what differs."""
    if sorted(got) == sorted(want):
        return ""
    problems = []
    want_left = list(want)
    extra = []
    for g in got:
        if g in want_left:
            want_left.remove(g)
        else:
            extra.append(g)
    for g in extra:
        same = [w for w in want if subject(w) == subject(g)]
        if same and g in want:
            problems.append(f"duplicate: {subject(g)}")
        elif same:
            problems.append(f"differs from what the server sent: {subject(g)} "
                            f"({len(g)} bytes delivered, {len(same[0])} sent)")
        else:
            problems.append(f"unexpected: {subject(g)} ({len(g)} bytes)")
    problems += [f"missing: {subject(w)}" for w in want_left]
    return "; ".join(problems)


results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))
    n = len(results)
    print(f"{'ok' if ok else 'not ok'} {n} - {name}", flush=True)
    if not ok:
        for line in str(detail).splitlines():
            print(f"# {line}", flush=True)


def tail(text, n=1500):
    return text if len(text) <= n else "...\n" + text[-n:]


def pop3_uids(box, verb, session=None):
    return [uid for _, _, uid in box.commands(verb, session)]


def imap_uid_sets(box, verb, session=None):
    """UIDs named by UID <verb> commands (single UIDs or a:b ranges)."""
    out = []
    known = sorted({u for u, _ in box.all_msgs})
    for _, line, _ in box.commands("UID " + verb, session):
        words = line.split()
        if len(words) >= 3:
            match = parse_set(words[2], known[-1] if known else 0)
            out += [u for u in known if match(u)]
    return out


def sessions_of(box, start):
    return range(start + 1, box.sessions + 1)


# ------------------------------------------------------------------ cases

N = 6


def case_pop3_drop(tmp):
    msgs = [message(100 + i, 300000 if i == 2 else 3000) for i in range(N)]
    box = Box(msgs)
    box.all_msgs = list(box.msgs)
    uid = {i: box.msgs[i][0] for i in range(N)}
    box.fault["drop_retr_uid"] = uid[2]
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "pop3", "port": srv.port, "after_delivery": "delete",
                                 "timeout": "5"}})
        code, out, secs = s.fetch(timeout=DROP_TIMEOUT)
        got = s.delivered()
        diff = compare(got, msgs[:2])
        check("POP3 drop in RETR 3: fetch exits 75, main process alive", code == 75,
              f"exit {code}\n{tail(out)}")
        check("POP3 drop in RETR 3: messages 1-2 delivered byte for byte, no partial message 3",
              diff == "", f"{diff}\n{tail(out)}")
        check("POP3 drop in RETR 3: nothing left in Maildir tmp/", s.tmp_files() == [],
              f"{s.tmp_files()}" + (" (the partial message 3, left by the hung fetch the test killed)"
                                    if code is None else ""))
        retr = pop3_uids(box, "RETR")
        dele = pop3_uids(box, "DELE")
        delivered_uids = {u for u, m in box.all_msgs if m in got}
        # every DELE must name a delivered message and come after its RETR
        late = [u for k, (_, line, u) in enumerate(box.log) if line.upper().startswith("DELE")
                and not any(l2.upper().startswith("RETR") and u2 == u for _, l2, u2 in box.log[:k])]
        check("POP3 drop in RETR 3: DELE only for delivered messages, each after its RETR",
              set(dele) <= delivered_uids and not late and uid[2] in retr,
              f"RETR of uids {retr}, DELE of uids {dele}, delivered uids {sorted(delivered_uids)}, "
              f"DELE before RETR {late}")
        check("POP3 drop in RETR 3: the server still holds all messages (no QUIT, no commit)",
              box.uids() == [uid[i] for i in range(N)], f"server has {box.uids()}")

        box.fault.clear()
        first = box.sessions
        code, out, secs = s.fetch()
        got = s.delivered()
        diff = compare(got, msgs)
        second_retr = [u for (sess, _, u) in box.commands("RETR") if sess > first]
        check("POP3 second run against a good server: exit 0, every message delivered exactly once",
              code == 0 and diff == "", f"exit {code}; {diff}\n{tail(out)}")
        check("POP3 second run: RETR only of messages 3..N (none fetched twice)",
              sorted(second_retr) == [uid[i] for i in range(2, N)],
              f"RETR of uids {second_retr}")
        check("POP3 second run: after_delivery = delete emptied the server, tmp/ empty",
              box.uids() == [] and s.tmp_files() == [], f"server has {box.uids()}, tmp {s.tmp_files()}")


def case_imap_drop(tmp):
    msgs = [message(200 + i, 300000 if i == 2 else 3000) for i in range(N)]
    box = Box(msgs, uid_step=10)  # UIDs 10, 20, ... so UIDs and sequence numbers differ
    box.all_msgs = list(box.msgs)
    uid = {i: box.msgs[i][0] for i in range(N)}
    box.fault["drop_body_uid"] = uid[2]
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete",
                                 "timeout": "5"}})
        code, out, secs = s.fetch(timeout=DROP_TIMEOUT)
        got = s.delivered()
        diff = compare(got, msgs[:2])
        check("IMAP drop in BODY[] literal of UID 30: fetch exits 75, main process alive", code == 75,
              f"exit {code}\n{tail(out)}")
        check("IMAP drop: UIDs 10, 20 delivered byte for byte, no partial UID 30", diff == "",
              f"{diff}\n{tail(out)}")
        check("IMAP drop: nothing left in Maildir tmp/", s.tmp_files() == [],
              f"{s.tmp_files()}" + (" (the partial UID 30, left by the hung fetch the test killed)"
                                    if code is None else ""))
        stored = imap_uid_sets(box, "STORE")
        expunged = imap_uid_sets(box, "EXPUNGE")
        plain_expunge = [l for _, l, _ in box.log if l.upper() == "EXPUNGE"]
        fetched = imap_uid_sets(box, "FETCH")
        delivered_uids = {u for u, m in box.all_msgs if m in got}
        check("IMAP drop: UID STORE \\Deleted / UID EXPUNGE only for delivered UIDs, no plain EXPUNGE",
              set(stored) <= delivered_uids and set(expunged) <= delivered_uids and not plain_expunge
              and uid[2] in fetched,
              f"UID FETCH {fetched}, UID STORE {stored}, UID EXPUNGE {expunged}, EXPUNGE {plain_expunge}, "
              f"delivered {sorted(delivered_uids)}")
        check("IMAP drop: the server holds every undelivered message (UIDs 30..60)",
              set(uid[i] for i in range(2, N)) <= set(box.uids()), f"server has {box.uids()}")

        box.fault.clear()
        first = box.sessions
        code, out, secs = s.fetch()
        got = s.delivered()
        diff = compare(got, msgs)
        second = []
        for sess in sessions_of(box, first):
            second += imap_uid_sets(box, "FETCH", sess)
        check("IMAP second run against a good server: exit 0, every message delivered exactly once",
              code == 0 and diff == "", f"exit {code}; {diff}\n{tail(out)}")
        check("IMAP second run: UID FETCH only of UIDs 30..60 (none fetched twice)",
              sorted(second) == [uid[i] for i in range(2, N)], f"UID FETCH of {second}")
        check("IMAP second run: after_delivery = delete emptied the server, tmp/ empty",
              box.uids() == [] and s.tmp_files() == [], f"server has {box.uids()}, tmp {s.tmp_files()}")


def case_pop3_bad_listing(tmp):
    msgs = [message(300 + i) for i in range(N)]
    box = Box(msgs)
    box.all_msgs = list(box.msgs)
    box.fault["bad_listing"] = [b"0 0", b"garbage line", b"18446744073709551617 9", b"", b"3"]
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "pop3", "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        got = s.delivered()
        diff = compare(got, msgs)
        check("POP3 UIDL/LIST with message number 0 and garbage: exit 0, every message delivered "
              "byte for byte", code == 0 and diff == "", f"exit {code}; {diff}\n{tail(out)}")
        check("POP3 bad listing lines are warned about",
              "ignoring a bad UIDL line" in out and "ignoring a bad LIST line" in out, tail(out))
        bogus = [l for _, l, _ in box.log if re.match(r"(RETR|DELE) (0|18446744073709551617|\D)", l)]
        check("POP3 bad listing: no RETR/DELE of a bogus message number; server emptied",
              not bogus and box.uids() == [], f"bogus commands {bogus}, server has {box.uids()}")


def case_imap_unsafe(tmp, label, fault):
    msgs = [message(400 + len(label) * 10 + i) for i in range(3)]
    box = Box(msgs)
    box.all_msgs = list(box.msgs)
    box.fault.update(fault)
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        got = s.delivered()
        died = re.search(r"process died|killed by signal", out)
        said = "which the IMAP library cannot read safely; connection dropped" in out
        check(f"{label}: refused with its reason before libetpan reads it, exit 75, "
              "the account process did not crash", code == 75 and said and not died,
              f"exit {code}\n{tail(out)}")
        harm = [l for _, l, _ in box.log if re.match(r"(UID )?(STORE|EXPUNGE|MOVE|COPY)", l, re.I)]
        check(f"{label}: nothing delivered, nothing removed from the server",
              got == [] and s.tmp_files() == [] and not harm and box.uids() == [u for u, _ in box.all_msgs],
              f"delivered {len(got)}, tmp {s.tmp_files()}, commands {harm}, server has {box.uids()}")
        box.fault.clear()
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: once the server behaves, everything arrives (nothing was lost)",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}\n{tail(out)}")


def case_timeouts(tmp):
    msgs = [message(500 + i) for i in range(3)]
    silent_pop3, silent_imap, stall = Box([]), Box([]), Box(msgs)
    silent_pop3.fault["silent"] = True
    silent_imap.fault["silent"] = True
    stall.all_msgs = list(stall.msgs)
    stall.fault["stall_body_uid"] = stall.msgs[1][0]
    with FakeServer(Pop3Handler, silent_pop3) as p, FakeServer(ImapHandler, silent_imap) as i, \
            FakeServer(ImapHandler, stall) as st:
        s = Setup(tmp, {"silentpop": {"protocol": "pop3", "port": p.port, "timeout": "5"},
                        "silentimap": {"protocol": "imap", "port": i.port, "timeout": "5"},
                        "stall": {"protocol": "imap", "port": st.port, "timeout": "5",
                                  "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        check(f"silent POP3 and IMAP servers, and one stalling mid-literal, timeout = 5: fetch "
              f"exits 75 within 10 s ({secs:.1f} s)", code == 75 and secs <= 10.0,
              f"exit {code}\n{tail(out)}")
        check("each account reports its failure",
              all(re.search(rf"^{a}: .*error", out, re.M) for a in ("silentpop", "silentimap", "stall")),
              tail(out))
        got = s.delivered()
        diff = compare(got, msgs[:1])
        removed = imap_uid_sets(stall, "STORE") + imap_uid_sets(stall, "EXPUNGE")
        check("stalled IMAP: the message before the stall is delivered, no partial one, tmp/ empty, "
              "no \\Deleted for the stalled UID",
              diff == "" and s.tmp_files() == [] and stall.msgs[1][0] not in removed
              and stall.msgs[1][0] in stall.uids(),
              f"{diff}; tmp {s.tmp_files()}; UID STORE/EXPUNGE {removed}; server {stall.uids()}")


def pids_running(argv):
    """Pids of processes whose command line is exactly @argv."""
    want = "\0".join(argv) + "\0"
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline") as f:
                    if f.read() == want:
                        out.append(int(d))
            except OSError:
                pass
    return out


def case_command_timeout(tmp):
    """password_command that never ends (a pinentry nobody sees), and one
    that prints the password but leaves a child behind holding its standard
    output: with command_timeout = 1 each fails its account within the
    limit, the command and its child are killed, and an account with a
    working password_command is fetched as usual."""
    msgs = [message(1300 + i) for i in range(3)]
    slow, bg, good = Box(msgs[:1]), Box(msgs[1:2]), Box(msgs[2:])
    sleeps = (["sleep", "613"], ["sleep", "614"])
    with FakeServer(Pop3Handler, slow) as a, FakeServer(ImapHandler, bg) as b, \
            FakeServer(Pop3Handler, good) as c:
        s = Setup(tmp, {"slow": {"protocol": "pop3", "port": a.port, "command_timeout": "1",
                                 "password_command": " ".join(sleeps[0])},
                        "bg": {"protocol": "imap", "port": b.port, "command_timeout": "1",
                               "password_command": f"sh -c 'echo pw; {' '.join(sleeps[1])} &'"},
                        "good": {"protocol": "pop3", "port": c.port}})
        try:
            code, out, secs = s.fetch(timeout=20)
            check(f"password_command that never ends, and one whose child holds its output, "
                  f"command_timeout = 1: fetch exits 75 without hanging ({secs:.1f} s)",
                  code == 75 and secs < 10, f"exit {code}\n{tail(out)}")
            check("the account whose command never ends reports it: the account, the command, "
                  "the limit and what to do",
                  re.search(r"^slow: .*error: account slow: password_command \(sleep\) did not finish "
                            r"within 1 s \(command_timeout\).*does not wait for input", out, re.M),
                  tail(out))
            check("the account whose command left a child holding its output reports that",
                  re.search(r"^bg: .*error: account bg: password_command \(sh\) exited, but a process "
                            r"it started still held its output open after 1 s", out, re.M), tail(out))
            check("neither logged in; the account with a working password_command is fetched",
                  not slow.commands("PASS") and not bg.commands("LOGIN")
                  and compare(s.delivered(), msgs[2:]) == "", f"{s.delivered()}\n{tail(out)}")
            left = []
            for _ in range(50):
                left = pids_running(sleeps[0]) + pids_running(sleeps[1])
                if not left:
                    break
                time.sleep(0.1)
            check("the commands and the children they started are killed", not left,
                  f"still running: {left}")
        finally:
            for pid in pids_running(sleeps[0]) + pids_running(sleeps[1]):
                os.kill(pid, signal.SIGKILL)


INJECTION = ("the server sent data before the TLS handshake", "possible STARTTLS injection",
             "refusing to continue")


def case_starttls_injection(tmp):
    """The server answers STARTTLS (STLS) and, in the same write, sends a
    response of its own before any TLS: libetpan refuses to go on, and the
    error must say so, not ask whether the server offers STARTTLS. A
    server that really does not offer it still gets that question."""
    inject = {"imap": b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n",
              "pop3": b"+OK injected\r\n"}
    for protocol, handler in (("imap", ImapHandler), ("pop3", Pop3Handler)):
        label = f"{protocol.upper()} {'STLS' if protocol == 'pop3' else 'STARTTLS'}"
        for injected in (True, False):
            box = Box([message(1400)])
            if injected:
                box.fault["starttls_inject"] = inject[protocol]
            with FakeServer(handler, box) as srv, tempfile.TemporaryDirectory(dir=tmp) as t:
                s = Setup(t, {"test": {"protocol": protocol, "port": srv.port, "tls": "starttls"}})
                code, out, secs = s.fetch(timeout=20)
                said = [w for w in INJECTION if w in out]
                asked = "does the server offer it" in out or "does not offer TLS" in out
                logins = box.commands("LOGIN") + box.commands("USER") + box.commands("PASS")
                if injected:
                    check(f"{label} answer followed by injected data: the error says the server sent "
                          "data before the TLS handshake, and does not ask whether STARTTLS is offered",
                          code == 78 and said == list(INJECTION) and not asked, f"exit {code}\n{tail(out)}")
                    check(f"{label} injection: no login, nothing delivered",
                          not logins and s.delivered() == [], f"{logins}\n{tail(out)}")
                else:
                    check(f"{label} refused by the server: the error still asks whether it offers it "
                          "and does not speak of injection", code == 75 and asked and not said,
                          f"exit {code}\n{tail(out)}")

    box = Box([])
    box.fault["starttls_inject"] = b"250 injected\r\n"
    with FakeServer(SmtpHandler, box) as srv:
        script = os.path.join(tmp, "redirect.sieve")
        with open(script, "w") as f:
            f.write('redirect "bob@example.net";\n')
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("#!/bin/sh\necho secret\n")
        os.chmod(pw, 0o700)
        cfg = os.path.join(tmp, "smtp-config")
        with open(cfg, "w") as f:
            f.write(f"[general]\nmaildir = {tmp}/Maildir\nstate_dir = {tmp}/state\nscript = {script}\n"
                    f"addresses = me@example.org\n[smtp main]\nhost = {HOST}\nport = {srv.port}\n"
                    f"tls = starttls\nuser = me\npassword_command = {pw}\n")
        os.chmod(cfg, 0o600)
        p = subprocess.run([MAILSIFT, "deliver", "-c", cfg, "-f", "alice@example.org", "-a",
                            "me@example.org"], input=message(1401), capture_output=True, timeout=60)
        q = subprocess.run([MAILSIFT, "queue", "flush", "-c", cfg], capture_output=True, timeout=60)
        out = (p.stderr + q.stdout + q.stderr).decode(errors="replace")
        said = [w for w in INJECTION if w in out]
        sent = [line for _, line, _ in box.log if line.split(" ")[0].upper() in ("AUTH", "MAIL", "RCPT")]
        check("SMTP STARTTLS answer followed by injected data: the error says the server sent data "
              "before the TLS handshake, and does not ask whether STARTTLS is offered",
              said == list(INJECTION) and "does the server offer it" not in out, tail(out))
        check("SMTP STARTTLS injection: no AUTH, MAIL or RCPT sent; the redirect stays queued",
              not sent and p.returncode == 0 and "1 to retry later" in out, f"{sent}\n{tail(out)}")


def case_smtp_drop(tmp):
    """The smarthost drops the connection at DATA, after accepting MAIL and
    RCPT: the redirect stays queued (nothing half-sent counts), and the
    next flush sends it once. Under make check-sanitizers this also holds
    that the replies gathered before the drop are freed."""
    box = Box([])
    box.received = []
    box.fault["drop_at"] = "DATA"
    with FakeServer(SmtpHandler, box) as srv:
        script = os.path.join(tmp, "redirect.sieve")
        with open(script, "w") as f:
            f.write('redirect "bob@example.net";\n')
        cfg = os.path.join(tmp, "smtp-config")
        with open(cfg, "w") as f:
            f.write(f"[general]\nmaildir = {tmp}/Maildir\nstate_dir = {tmp}/state\nscript = {script}\n"
                    f"addresses = me@example.org\n[smtp main]\nhost = {HOST}\nport = {srv.port}\n"
                    f"tls = none\n")
        os.chmod(cfg, 0o600)
        msg = message(1500)
        p = subprocess.run([MAILSIFT, "deliver", "-c", cfg, "-f", "alice@example.org", "-a",
                            "me@example.org"], input=msg, capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode(errors="replace")
        rcpts = [line for _, line, _ in box.log if line.upper().startswith("RCPT")]
        st = subprocess.run([MAILSIFT, "queue", "-c", cfg], capture_output=True, timeout=60)
        check("SMTP dropped at DATA after RCPT was accepted: deliver exits 0, says the connection "
              "broke, and the redirect stays queued", p.returncode == 0 and rcpts and box.received == []
              and "DATA failed: the connection was closed or broke" in out
              and "bob@example.net" in st.stdout.decode(errors="replace"),
              f"exit {p.returncode}, {rcpts}\n{tail(out)}\n{st.stdout.decode()}")
        box.fault.clear()
        q = subprocess.run([MAILSIFT, "queue", "flush", "-c", cfg], capture_output=True, timeout=60)
        out = (q.stdout + q.stderr).decode(errors="replace")
        st = subprocess.run([MAILSIFT, "queue", "-c", cfg], capture_output=True, timeout=60)
        body = msg.split(b"\n\n", 1)[1].rstrip(b"\n")
        check("once the smarthost behaves, the next flush sends it once and the queue is empty",
              q.returncode == 0 and len(box.received) == 1 and box.received[0].encode("latin-1").endswith(body)
              and "bob@example.net" not in st.stdout.decode(errors="replace"),
              f"exit {q.returncode}, received {len(box.received)}\n{tail(out)}\n{st.stdout.decode()}")


def refusal_reports(out, where, text=ImapHandler.REFUSAL):
    """Log lines that report @where (a regex: "INBOX UID 30") as refused by
    the server with @text."""
    return [l for l in out.splitlines()
            if re.search(rf"\b{where}: the server would not return it \(.*{re.escape(text.decode())}", l)]


def case_imap_refused(tmp, whole):
    """UID FETCH of a batch answered with a tagged NO because of one message
    (UID 30). On that path libetpan 1.9.4 frees the result list and leaves the
    caller's pointer to it; mailsift freed it again and the account process
    died, on every run. Now the other messages are delivered (asked for one
    at a time when the NO came alone), UID 30 is reported and stays."""
    label = "IMAP tagged NO " + ("with no FETCH response" if whole
                                 else "after the other messages' FETCH responses")
    msgs = [message(800 + 10 * whole + i) for i in range(N)]
    box = Box(msgs, uid_step=10)
    box.all_msgs = list(box.msgs)
    bad = box.msgs[2][0]
    box.fault["refuse_uids"] = {bad}
    box.fault["refuse_whole"] = whole
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        got = s.delivered()
        diff = compare(got, [m for u, m in box.all_msgs if u != bad])
        check(f"{label}: the account process survives, fetch exits 75 with 1 failed",
              code == 75 and "process died" not in out and re.search(r"^test: 5 fetched.* 1 failed$", out, re.M),
              f"exit {code}\n{tail(out)}")
        check(f"{label}: the other 5 messages are delivered byte for byte; tmp/ empty",
              diff == "" and s.tmp_files() == [], f"{diff}; tmp {s.tmp_files()}\n{tail(out)}")
        removed = imap_uid_sets(box, "STORE") + imap_uid_sets(box, "EXPUNGE")
        check(f"{label}: UID {bad} alone stays on the server, never flagged or expunged",
              bad not in removed and box.uids() == [bad],
              f"UID STORE/EXPUNGE {removed}, server {box.uids()}")
        reports = refusal_reports(out, f"INBOX UID {bad}")
        check(f"{label}: UID {bad} and the server's answer are reported once", len(reports) == 1,
              tail(out))

        box.fault.clear()
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: once the server returns UID {bad}, every message is there exactly once",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}; server "
              f"{box.uids()}\n{tail(out)}")


def case_one_refused(tmp, protocol="imap", count=15, pipelining=False):
    """@count messages, the server will not return the 8th (IMAP: a tagged
    NO, POP3: -ERR to its RETR): the others are delivered (in every batch),
    the 8th is reported once, counted as failed and left on the server; the
    next run delivers it once the server does."""
    label = f"{protocol.upper()}, 1 of {count} messages refused" + (", pipelined" if pipelining else "")
    msgs = [message(900 + i, 1500) for i in range(count)]
    box = Box(msgs)
    box.all_msgs = list(box.msgs)
    bad = box.msgs[7][0]
    box.fault["refuse_uids"] = {bad}
    box.fault["pipelining"] = pipelining
    imap = protocol == "imap"
    with FakeServer(ImapHandler if imap else Pop3Handler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": protocol, "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), [m for u, m in box.all_msgs if u != bad])
        check(f"{label}: exit 75, summary says {count - 1} fetched and 1 failed",
              code == 75 and re.search(rf"^test: {count - 1} fetched.* 1 failed$", out, re.M),
              f"exit {code}\n{tail(out)}")
        check(f"{label}: the other {count - 1} are delivered byte for byte, tmp/ empty",
              diff == "" and s.tmp_files() == [], f"{diff}; tmp {s.tmp_files()}")
        reports = (refusal_reports(out, f"INBOX UID {bad}") if imap else
                   refusal_reports(out, rf"message uid-{bad} \(RETR 8\)", Pop3Handler.REFUSAL))
        check(f"{label}: the refused message is reported once (account, "
              f"{'folder, UID' if imap else 'UIDL'}, server text)",
              len(reports) == 1 and "account test: " in reports[0], tail(out))
        removed = (imap_uid_sets(box, "STORE") + imap_uid_sets(box, "EXPUNGE") if imap
                   else pop3_uids(box, "DELE"))
        check(f"{label}: it alone stays on the server, never {'flagged or expunged' if imap else 'DELEd'}",
              box.uids() == [bad] and bad not in removed, f"server {box.uids()}, removed {removed}")
        status = subprocess.run([MAILSIFT, "status", "-c", s.cfg], capture_output=True, text=True).stdout
        check(f"{label}: mailsift status shows the failed message",
              re.search(r"^  last error: .*: 1 failed \(left on the server", status, re.M), status)

        box.fault.clear()
        first = box.sessions
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        again = []
        for sess in sessions_of(box, first):
            again += imap_uid_sets(box, "FETCH", sess) if imap else pop3_uids(box, "RETR", sess)
        check(f"{label}: the next run fetches only it and delivers it; every message once, "
              "server empty", code == 0 and diff == "" and again == [bad] and box.uids() == [],
              f"exit {code}; {diff}; fetched {again}; server {box.uids()}\n{tail(out)}")


def case_imap_listing_refused(tmp):
    """The listing (FETCH 1:* (UID RFC822.SIZE)) ends in a tagged NO after
    leaving out UIDs 20 and 70. libetpan 1.9.4 reports such a NO as success
    when some FETCH responses came, so mailsift took UID 20 for gone, forgot
    it had delivered it and delivered it again once it was listed."""
    msgs = [message(1100 + i) for i in range(N + 1)]
    box = Box(msgs[:N], uid_step=10)
    box.all_msgs = [(10 * (n + 1), m) for n, m in enumerate(msgs)]
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port}})
        code, out, secs = s.fetch()
        check("IMAP listing cut short: first run (good server) delivers 6", code == 0
              and compare(s.delivered(), msgs[:N]) == "", f"exit {code}\n{tail(out)}")
        box.add(msgs[N])
        box.fault["refuse_list_uids"] = {20, 70}
        code, out, secs = s.fetch()
        check("IMAP listing cut short by a NO: exit 75, 2 failed, reported with folder and the "
              "server's text", code == 75 and re.search(r"^test: 0 fetched.* 2 failed$", out, re.M)
              and re.search(r"INBOX: the server listed only 5 of 7 messages .*"
                            + re.escape(ImapHandler.REFUSAL.decode()), out),
              f"exit {code}\n{tail(out)}")
        box.fault.clear()
        first = box.sessions
        code, out, secs = s.fetch()
        again = []
        for sess in sessions_of(box, first):
            again += imap_uid_sets(box, "FETCH", sess)
        diff = compare(s.delivered(), msgs)
        check("IMAP listing cut short: the next run fetches only the new UID 70; UID 20, left out "
              "of the listing, is not delivered again", code == 0 and diff == "" and again == [70],
              f"exit {code}; {diff}; UID FETCH {again}\n{tail(out)}")


def case_imap_recovery_refused(tmp):
    """After a UIDVALIDITY change, the Message-ID fetch that matches the
    folder to what was delivered is answered with a tagged NO alone because
    of UID 20. That failed the folder on every run; now the other messages
    are matched one by one and new mail arrives."""
    msgs = [message(1200 + i) for i in range(5)]
    box = Box(msgs[:4], uid_step=10)
    box.all_msgs = [(10 * (n + 1), m) for n, m in enumerate(msgs)]
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port}})
        code, out, secs = s.fetch()
        check("IMAP UIDVALIDITY recovery refused: first run delivers 4", code == 0
              and compare(s.delivered(), msgs[:4]) == "", f"exit {code}\n{tail(out)}")
        box.uidvalidity += 1
        box.add(msgs[4])
        box.fault.update(refuse_uids={20}, refuse_whole=True)
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check("IMAP UIDVALIDITY changed, Message-ID fetch refused for UID 20: the other 3 match, "
              "the new UID 50 is delivered, nothing twice",
              re.search(r"3 of 5 messages matched", out) and diff == "", f"{diff}\n{tail(out)}")
        check("IMAP UIDVALIDITY recovery refused: UID 20, not matched, is fetched as new; its "
              "refusal is reported and the run exits 75",
              code == 75 and len(refusal_reports(out, "INBOX UID 20")) == 1, f"exit {code}\n{tail(out)}")


def count_files(maildir):
    n = 0
    for d, _, files in os.walk(maildir):
        if os.path.basename(d) in ("new", "cur"):
            n += len(files)
    return n


def case_run(tmp):
    msg = message(600)
    box = Box([msg])
    box.all_msgs = list(box.msgs)
    box.fault["kill"] = True  # the account process dies at each connection
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete"}})
        logpath = os.path.join(tmp, "run.log")
        log = open(logpath, "w+")
        agent = subprocess.Popen([MAILSIFT, "run", "-v", "-c", s.cfg], stdout=log, stderr=log)
        code = None
        try:
            time.sleep(6.0)
            with open(logpath) as f:
                text = f.read()
            backoffs = [int(x) for x in re.findall(r"restarting in (\d+) s", text)]
            crashes = box.sessions
            check(f"run while the account process is killed at each connection for 6 s: agent stays up, worker restarted "
                  f"{len(backoffs)} times with growing backoff {backoffs}",
                  agent.poll() is None and len(backoffs) >= 2 and crashes >= 2
                  and all(b > a for a, b in zip(backoffs, backoffs[1:])),
                  f"agent exit {agent.poll()}, connections {crashes}\n{tail(text)}")
            check("the account process's death is logged with its signal",
                  re.search(r"process died \(signal \d+\)|worker was killed by signal \d+", text),
                  tail(text))

            # now behave: the next restart must deliver the message
            box.fault.clear()
            wait = (backoffs[-1] if backoffs else 1) + 6
            start = time.monotonic()
            while time.monotonic() - start < wait and count_files(s.maildir) == 0:
                time.sleep(0.05)
            t = time.monotonic() - start
            diff = compare(s.delivered(), [msg])
            check(f"once the server behaves, the still-running agent delivers its message "
                  f"({t:.1f} s, backoff was {backoffs[-1] if backoffs else '?'} s)",
                  diff == "" and agent.poll() is None,
                  f"{diff}; agent exit {agent.poll()}\n{tail(open(logpath).read())}")
            time.sleep(0.5)
            check("the delivered message was deleted on the server, nothing left in tmp/",
                  box.uids() == [] and s.tmp_files() == [], f"server {box.uids()}, tmp {s.tmp_files()}")
        finally:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
            try:
                code = agent.wait(timeout=15)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
                code = "hung (killed)"
        log.seek(0)
        text = log.read()
        log.close()
        check("SIGTERM stops the agent cleanly (exit 0)", code == 0, f"exit {code}\n{tail(text)}")
        left = ""
        for _ in range(30):
            left = subprocess.run(["pgrep", "-f", f"fetch --watch -c {s.cfg}"], capture_output=True,
                                  text=True).stdout.strip()
            if not left:
                break
            time.sleep(0.1)
        check("no worker left behind", left == "", f"pids {left}")
        check("the message was delivered once", count_files(s.maildir) == 1,
              f"{count_files(s.maildir)} files")


def case_idle_dead(tmp):
    """An idling connection that went dead without a word (DONE is never
    answered): the keep-alive check finds out within idle_keepalive +
    timeout, the worker reconnects and fetches what came in meanwhile."""
    first, second = message(700), message(701)
    box = Box([first])
    box.all_msgs = [first, second]
    box.fault["idle_blackhole"] = True
    with FakeServer(ImapHandler, box) as srv:
        s = Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete",
                                 "timeout": "5", "idle_keepalive": "5"}})
        logpath = os.path.join(tmp, "run.log")
        log = open(logpath, "w+")
        agent = subprocess.Popen([MAILSIFT, "run", "-v", "-c", s.cfg], stdout=log, stderr=log)
        try:
            start = time.monotonic()
            while time.monotonic() - start < 10 and count_files(s.maildir) == 0:
                time.sleep(0.05)
            # the agent is idling now; the server will never tell it about this one
            time.sleep(1.0)
            box.add(second)
            start = time.monotonic()
            while time.monotonic() - start < 30 and count_files(s.maildir) < 2:
                time.sleep(0.1)
            t = time.monotonic() - start
            text = open(logpath).read()
            diff = compare(s.delivered(), [first, second])
            check(f"IDLE on a dead connection: noticed by the keep-alive check, reconnected, the "
                  f"new message delivered ({t:.1f} s; keep-alive 5 s + timeout 5 s + backoff 5 s)",
                  diff == "" and t < 25 and agent.poll() is None, f"{diff}\n{tail(text)}\n{box.log}")
            check("the dead IDLE connection is logged", "ending IDLE" in text, tail(text) + str(box.log))
        finally:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(timeout=15)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
            log.close()


def main():
    if not os.access(MAILSIFT, os.X_OK):
        print(f"1..0 # SKIP {MAILSIFT} is not built")
        return 0
    cases = [
        ("POP3 drop in RETR", case_pop3_drop),
        ("IMAP drop in BODY literal", case_imap_drop),
        ("POP3 bad listing", case_pop3_bad_listing),
        ("IMAP greeting BADCHARSET", lambda t: case_imap_unsafe(
            t, "IMAP greeting with BADCHARSET (\"UTF-8\")", {"greeting": BADCHARSET_GREETING})),
        ("IMAP SELECT PERMANENTFLAGS", lambda t: case_imap_unsafe(
            t, "IMAP SELECT with [PERMANENTFLAGS (\\x01]", {"select_extra": BAD_PERMANENTFLAGS})),
        ("IMAP tagged NO after FETCH responses", lambda t: case_imap_refused(t, False)),
        ("IMAP tagged NO alone", lambda t: case_imap_refused(t, True)),
        ("IMAP one message refused", case_one_refused),
        ("IMAP one message refused, later batches", lambda t: case_one_refused(t, "imap", 140)),
        ("POP3 one message refused", lambda t: case_one_refused(t, "pop3")),
        ("POP3 one message refused, pipelined", lambda t: case_one_refused(t, "pop3", 15, True)),
        ("IMAP listing cut short", case_imap_listing_refused),
        ("IMAP UIDVALIDITY recovery refused", case_imap_recovery_refused),
        ("timeouts", case_timeouts),
        ("password_command time limit", case_command_timeout),
        ("STARTTLS injection", case_starttls_injection),
        ("SMTP drop at DATA", case_smtp_drop),
        ("run", case_run),
        ("IDLE on a dead connection", case_idle_dead),
    ]
    start = time.monotonic()
    for name, fn in cases:
        with tempfile.TemporaryDirectory(prefix="ms-fault-") as tmp:
            try:
                fn(tmp)
            except Exception:
                check(f"{name}: the test itself failed", False, traceback.format_exc())
    print(f"1..{len(results)}")
    print(f"# {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
