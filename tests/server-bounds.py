#!/usr/bin/python3
"""Bounds on what a server can make `mailsift fetch` hold or write, against
the scripted servers of fault-servers.py (plaintext, 127.0.0.1), made
hostile by subclassing:

  1. a 64 MiB greeting without a line end (IMAP and POP3)
  2. 2 million untagged lines after SELECT
  3. an IMAP literal of 64 MiB for a message whose RFC822.SIZE is small,
     with max_message_size = 1 (KiB)
  4. a POP3 RETR that streams 64 MiB (short lines, then one long line)
     for a message LIST gave a small size for
  5. an IMAP server that answers BODY[] with a partial BODY[]<0>
  6. a POP3 server with PIPELINING that does not dot-stuff a lone "."
     inside message 1, after which message 1 holds what looks like the
     answer to RETR 2
  7. a server that trickles one byte every 2 s (fetch_deadline = 3), and
     one whose batches are slow (fetch_deadline = 1): the fetch stops,
     what was delivered is told to the server, the rest is left there

Each time the connection must be dropped within seconds with an error
naming the server and the bound, the worker's memory must stay small,
nothing may be deleted on the server, tmp/ must be empty, and the next run
against a well-behaved server must deliver every message exactly once.
Prints TAP."""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fs = load("fault_servers", "fault-servers.py")
fetchlib = load("fetchlib", "fetchlib.py")
check, tail, compare, crlf = fs.check, fs.tail, fs.compare, fs.crlf

MAILSIFT = fs.MAILSIFT
BIG = 64 * 1024 * 1024  # what a hostile server offers (the attack used 1 GiB)
CHUNK = 1024 * 1024
RSS_MAX_KIB = 48 * 1024  # the worker stays far below BIG


def small(i):
    """A message under 1 KiB (max_message_size = 1 lets it through)."""
    return (f"From: s{i}@example.org\nTo: test@example.org\nSubject: bounds message {i}\n"
            f"Message-ID: <bounds{i}.{os.getpid()}@example.org>\n\nline one\n.dot line\nend {i}\n"
            ).encode()


def stream(handler, first, total, filler=b"x" * CHUNK):
    """Send @first, then @total bytes of @filler, until the peer goes away.
    Returns the bytes sent."""
    sent = 0
    handler.box.offered = total
    try:
        handler.request.sendall(first)
        while sent < total:
            piece = filler[:min(len(filler), total - sent)]
            handler.request.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    return sent


class HostileImap(fs.ImapHandler):
    """Faults: huge_greeting, flood_select (untagged lines after SELECT),
    big_literal_uid (a literal of BIG bytes for that UID)."""

    def handle(self):
        fault = self.box.fault
        if fault.get("huge_greeting"):
            self.box.sent = stream(self, b"* OK ", BIG)
            return
        super().handle()

    def send(self, data):
        fault = self.box.fault
        if fault.get("flood_select") and b"OK [READ-WRITE] selected" in data:
            line = b"* OK still talking to you\r\n"
            self.box.sent = stream(self, b"", fault["flood_select"] * len(line), line * 40000)
            return
        super().send(data)

    def fetch(self, t, set_text, items, by_uid):
        if "BODY" in items and self.box.fault.get("slow_fetch"):
            time.sleep(self.box.fault["slow_fetch"])
        return super().fetch(t, set_text, items, by_uid)

    def send_body(self, head, uid, msg):
        if uid == self.box.fault.get("trickle_uid"):
            lit = crlf(msg)
            self.send(head + b" BODY[] {%d}\r\n" % len(lit))
            for i in range(len(lit)):
                if self.server.stop_event.wait(2):
                    break
                try:
                    self.request.sendall(lit[i:i + 1])
                except OSError:
                    break
            self.drop()
            return True
        if uid == self.box.fault.get("partial_uid"):
            half = crlf(msg)[:len(crlf(msg)) // 2]
            self.send(head + b" BODY[]<0> {%d}\r\n" % len(half) + half + b")\r\n")
            return True
        if uid != self.box.fault.get("big_literal_uid"):
            return False
        self.box.sent = stream(self, head + b" BODY[] {%d}\r\n" % BIG, BIG,
                               b"a long body line\r\n" * (CHUNK // 18))
        self.drop()
        return True


class HostilePop3(fs.Pop3Handler):
    """Faults: huge_greeting, big_retr_uid (RETR streams BIG bytes of short
    lines), long_line_uid (RETR streams one line of BIG bytes)."""

    def handle(self):
        if self.box.fault.get("huge_greeting"):
            self.box.sent = stream(self, b"+OK ", BIG)
            return
        super().handle()

    def send_message(self, uid, msg):
        fault = self.box.fault
        if uid == fault.get("big_retr_uid"):
            self.box.sent = stream(self, b"+OK\r\n" + crlf(msg), BIG, b"a long body line\r\n" * (CHUNK // 18))
        elif uid == fault.get("long_line_uid"):
            self.box.sent = stream(self, b"+OK\r\n" + crlf(msg), BIG)
        elif uid == fault.get("unstuffed_uid"):
            self.send(b"+OK\r\n" + crlf(msg) + b".\r\n")
            return True
        else:
            return False
        self.drop()
        return True


def measured_fetch(s):
    """(exit, output, seconds, peak RSS of the worker in KiB)."""
    start = time.monotonic()
    code, out, err, hwm = fetchlib.run_measured([MAILSIFT, "fetch", "-c", s.cfg])
    return code, out + err, time.monotonic() - start, hwm


def removed(box, imap):
    return (fs.imap_uid_sets(box, "STORE") + fs.imap_uid_sets(box, "EXPUNGE") if imap
            else fs.pop3_uids(box, "DELE"))


def bounded_run(tmp, label, handler, protocol, fault, bound, account=None, hostile_uid=None):
    """Run a fetch against @fault: dropped fast with @bound (a regex) and
    the server in the error, small RSS, tmp/ empty, nothing removed; then
    without the fault every message arrives once."""
    msgs = [small(i) for i in range(3)]
    box = fs.Box(msgs)
    box.all_msgs = list(box.msgs)
    box.sent = box.offered = 0
    box.fault.update(fault)
    imap = protocol == "imap"
    with fs.FakeServer(handler, box) as srv:
        acct = {"protocol": protocol, "port": srv.port, "after_delivery": "delete", "timeout": "5"}
        acct.update(account or {})
        s = fs.Setup(tmp, {"test": acct})
        code, out, secs, hwm = measured_fetch(s)
        where = f"127.0.0.1:{srv.port}"
        check(f"{label}: fetch exits 75 within seconds ({secs:.1f} s) with an error naming the "
              f"server and the bound", code == 75 and secs < 15 and where in out
              and re.search(bound, out) and "connection dropped" in out,
              f"exit {code}, {secs:.1f} s\n{tail(out)}")
        check(f"{label}: the worker's memory stays bounded (peak {hwm // 1024} MiB; the server "
              f"offered {box.offered // CHUNK} MiB and got {box.sent // CHUNK} MiB out)", hwm < RSS_MAX_KIB,
              f"peak RSS {hwm} KiB")
        check(f"{label}: mailsift stopped reading early (the server got {box.sent // CHUNK} of "
              f"{box.offered // CHUNK} MiB out)", box.sent < 24 * CHUNK, f"{box.sent} bytes sent")
        gone = removed(box, imap)
        check(f"{label}: nothing is deleted on the server, tmp/ is empty",
              s.tmp_files() == [] and (hostile_uid is None or hostile_uid not in gone)
              and (hostile_uid is not None or gone == []),
              f"removed {gone}, server {box.uids()}, tmp {s.tmp_files()}")
        status = subprocess.run([MAILSIFT, "status", "-c", s.cfg], capture_output=True, text=True).stdout
        check(f"{label}: mailsift status shows the error", re.search(bound, status), status)
        box.fault.clear()
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: the next run against a well-behaved server delivers every message once",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}\n{tail(out)}")


def case_partial(tmp):
    """UID 2 comes as BODY[]<0> with half of it: not delivered, reported once,
    counted as failed and left on the server; the others are delivered."""
    label = "IMAP partial BODY[]<0> for UID 2"
    msgs = [small(10 + i) for i in range(3)]
    box = fs.Box(msgs)
    box.all_msgs = list(box.msgs)
    box.fault["partial_uid"] = 2
    with fs.FakeServer(HostileImap, box) as srv:
        s = fs.Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), [msgs[0], msgs[2]])
        check(f"{label}: exit 75, 2 fetched and 1 failed; the other two delivered byte for byte, "
              f"tmp/ empty", code == 75 and re.search(r"^test: 2 fetched.* 1 failed$", out, re.M)
              and diff == "" and s.tmp_files() == [], f"exit {code}; {diff}\n{tail(out)}")
        reports = re.findall(r"INBOX UID 2: the server sent \d+ bytes for it, but gave its size "
                             r"\(RFC822.SIZE\) as \d+; a partial or damaged copy is not delivered", out)
        check(f"{label}: reported once with folder, UID and both sizes", len(reports) == 1, tail(out))
        gone = removed(box, True)
        check(f"{label}: UID 2 stays on the server, never flagged or expunged",
              box.uids() == [2] and 2 not in gone, f"server {box.uids()}, removed {gone}")
        box.fault.clear()
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: once the server sends it whole, every message is there once",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}\n{tail(out)}")


def case_lone_dot(tmp):
    """Message 1 holds a lone "." the server does not dot-stuff, then what
    looks like an answer to RETR 2. With PIPELINING, mailsift read that as
    message 2 and delivered it. Now message 1 is found short of its LIST
    size: not delivered, not deleted, reported; the session is dropped and
    a new one fetches messages 2 and 3."""
    label = "POP3 lone dot in message 1, not dot-stuffed, PIPELINING"
    first = (b"From: a@example.org\nTo: test@example.org\nSubject: has a lone dot\n"
             b"Message-ID: <lonedot.%d@example.org>\n\nbefore the dot\n.\n+OK\n"
             b"Subject: injected\n\nnot message 2\n" % os.getpid())
    msgs = [first, small(21), small(22)]
    box = fs.Box(msgs)
    box.all_msgs = list(box.msgs)
    box.fault.update(unstuffed_uid=1, pipelining=True)
    with fs.FakeServer(HostilePop3, box) as srv:
        s = fs.Setup(tmp, {"test": {"protocol": "pop3", "port": srv.port, "after_delivery": "delete"}})
        code, out, secs = s.fetch()
        got = s.delivered()
        diff = compare(got, msgs[1:])
        check(f"{label}: messages 2 and 3 are delivered byte for byte, nothing of message 1 "
              f"(no injected message, no truncated copy)", diff == "" and s.tmp_files() == [],
              f"{diff}; tmp {s.tmp_files()}\n{tail(out)}")
        check(f"{label}: exit 75, 2 fetched and 1 failed", code == 75
              and re.search(r"^test: 2 fetched.* 1 failed$", out, re.M), f"exit {code}\n{tail(out)}")
        reports = re.findall(r"message uid-1 \(RETR 1\): the server sent \d+ bytes for it, but LIST "
                             r"gave its size as \d+; a partial or damaged copy is not delivered", out)
        check(f"{label}: message 1 is reported once, with both sizes", len(reports) == 1, tail(out))
        deleted = fs.pop3_uids(box, "DELE")
        check(f"{label}: message 1 stays on the server, never DELEd; 2 and 3 are deleted",
              box.uids() == [1] and 1 not in deleted, f"server {box.uids()}, DELE {deleted}")


def case_trickle(tmp):
    """UID 2 trickles in at a byte every 2 s (each read within timeout =
    5): fetch_deadline = 3 ends the fetch after 3 + 5 s at most."""
    label = "IMAP body trickling a byte every 2 s, fetch_deadline = 3"
    msgs = [small(30 + i) for i in range(3)]
    box = fs.Box(msgs)
    box.all_msgs = list(box.msgs)
    box.fault["trickle_uid"] = 2
    with fs.FakeServer(HostileImap, box) as srv:
        s = fs.Setup(tmp, {"test": {"protocol": "imap", "port": srv.port, "after_delivery": "delete",
                                    "timeout": "5", "fetch_deadline": "3"}})
        code, out, secs = s.fetch()
        check(f"{label}: the fetch ends in {secs:.1f} s (deadline 3 s + timeout 5 s), exit 75, and "
              f"the log says fetch_deadline ran out", code == 75 and secs < 12
              and re.search(rf"127\.0\.0\.1:{srv.port}: the time this fetch may take "
                            r"\(fetch_deadline\) ran out; connection dropped", out),
              f"exit {code}, {secs:.1f} s\n{tail(out)}")
        gone = removed(box, True)
        check(f"{label}: UID 1, which arrived whole, is delivered; UID 2 and 3 stay on the "
              f"server, tmp/ empty", compare(s.delivered(), msgs[:1]) == "" and 2 not in gone
              and 3 not in gone and s.tmp_files() == [], f"removed {gone}, tmp {s.tmp_files()}")
        box.fault.clear()
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: the next run delivers the rest, every message once",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}\n{tail(out)}")


def case_deadline_clean(tmp, protocol):
    """Two batches (128 + 2 messages), each taking 2 s to come; fetch_deadline
    = 1: the first batch is delivered and told to the server, the fetch
    logs out cleanly and leaves the second batch for the next run."""
    label = f"{protocol.upper()} slow batches, fetch_deadline = 1"
    msgs = [small(100 + i) for i in range(130)]
    box = fs.Box(msgs)
    box.all_msgs = list(box.msgs)
    imap = protocol == "imap"
    if imap:
        box.fault["slow_fetch"] = 2
    handler = HostileImap if imap else SlowPop3
    with fs.FakeServer(handler, box) as srv:
        s = fs.Setup(tmp, {"test": {"protocol": protocol, "port": srv.port, "after_delivery": "delete",
                                    "timeout": "5", "fetch_deadline": "1"}})
        code, out, secs = s.fetch()
        check(f"{label}: exit 75; the log and status say fetch_deadline was reached",
              code == 75 and "fetch_deadline (1 s) reached; what was delivered is recorded and "
              "told to the server, the rest stays there for the next run" in out
              and re.search(r"^test: 128 fetched", out, re.M),
              f"exit {code}, {secs:.1f} s\n{tail(out)}")
        status = subprocess.run([MAILSIFT, "status", "-c", s.cfg], capture_output=True, text=True).stdout
        check(f"{label}: mailsift status says so", "fetch_deadline (1 s) reached; the rest is left "
              "on the server for the next run" in status, status)
        bye = box.commands("LOGOUT" if imap else "QUIT")
        check(f"{label}: the first batch is delivered and deleted on the server (clean "
              f"{'LOGOUT' if imap else 'QUIT'}), the other 2 stay",
              compare(s.delivered(), msgs[:128]) == "" and box.uids() == [129, 130] and bye,
              f"server {box.uids()}, {len(s.delivered())} delivered, {bye}")
        code, out, secs = s.fetch()
        diff = compare(s.delivered(), msgs)
        check(f"{label}: the next run delivers the other 2, every message once",
              code == 0 and diff == "" and box.uids() == [], f"exit {code}; {diff}\n{tail(out)}")


class SlowPop3(fs.Pop3Handler):
    """RETR answers take 1 s each for the first 2 of each session."""

    def send_message(self, uid, msg):
        self.slow = getattr(self, "slow", 0) + 1
        if self.slow <= 2:
            time.sleep(1)
        return False


def main():
    if not os.access(MAILSIFT, os.X_OK):
        print(f"1..0 # SKIP {MAILSIFT} is not built")
        return 0
    line = r"a line longer than 1 MiB, the most mailsift accepts outside a message"
    cases = [
        ("IMAP greeting of 64 MiB without a line end", lambda t: bounded_run(
            t, "IMAP greeting of 64 MiB without a line end", HostileImap, "imap",
            {"huge_greeting": True}, line)),
        ("POP3 greeting of 64 MiB without a line end", lambda t: bounded_run(
            t, "POP3 greeting of 64 MiB without a line end", HostilePop3, "pop3",
            {"huge_greeting": True}, line)),
        ("IMAP 2 M untagged lines after SELECT", lambda t: bounded_run(
            t, "IMAP 2 M untagged lines after SELECT", HostileImap, "imap",
            {"flood_select": 2000000}, r"more than 10000 lines in answer to one command")),
        ("IMAP literal of 64 MiB", lambda t: bounded_run(
            t, "IMAP literal of 64 MiB, RFC822.SIZE small, max_message_size = 1", HostileImap,
            "imap", {"big_literal_uid": 2}, r"literal of 64 MiB .*more than the 1 KiB expected",
            {"max_message_size": "1"}, hostile_uid=2)),
        ("POP3 RETR of 64 MiB", lambda t: bounded_run(
            t, "POP3 RETR of 64 MiB in short lines, LIST small, max_message_size = 1", HostilePop3,
            "pop3", {"big_retr_uid": 2}, r"message uid-2 \(RETR 2\): the server sent more than "
            r"1 KiB, but LIST said \d+ bytes", {"max_message_size": "1"}, hostile_uid=2)),
        ("POP3 RETR of one 64 MiB line", lambda t: bounded_run(
            t, "POP3 RETR of one 64 MiB line, LIST small", HostilePop3, "pop3",
            {"long_line_uid": 2}, line, hostile_uid=2)),
        ("IMAP partial BODY[]<0>", case_partial),
        ("POP3 lone dot, PIPELINING", case_lone_dot),
        ("IMAP trickle, fetch_deadline", case_trickle),
        ("IMAP slow batches, fetch_deadline", lambda t: case_deadline_clean(t, "imap")),
        ("POP3 slow batches, fetch_deadline", lambda t: case_deadline_clean(t, "pop3")),
    ]
    start = time.monotonic()
    for name, fn in cases:
        with tempfile.TemporaryDirectory(prefix="ms-bounds-") as tmp:
            try:
                fn(tmp)
            except Exception:
                check(f"{name}: the test itself failed", False, traceback.format_exc())
    print(f"1..{len(fs.results)}")
    print(f"# {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
