#!/usr/bin/python3
"""POP3 UIDL reuse: a server may give the UIDL of a message deleted in the
last session to a new message. `mailsift fetch` (after_delivery = delete)
against the scripted POP3 server of tests/fault-servers.py:

  1. a clean run deletes message A (QUIT answered); the next session lists
     a new message B under A's UIDL: B is delivered before it is deleted
  2. the answer to QUIT is lost after the server deleted A, so mailsift
     cannot know it did; the next session lists B (the same size as A)
     under A's UIDL: B's header is not the one recorded, so it is
     delivered, not just deleted
  3. the answer to QUIT is lost and the server kept A: the next session
     finds A with the header recorded and deletes it without delivering
     it a second time
  4. as 1, but the next run has after_delivery = keep: B, under A's UIDL,
     is delivered (the record of A went when QUIT confirmed its DELE)

Each case checks the Maildir byte for byte and the server's command log.
Prints TAP."""
import importlib
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
fault = importlib.import_module("fault-servers")
Box, FakeServer, Pop3Handler, Setup = fault.Box, fault.FakeServer, fault.Pop3Handler, fault.Setup
check, compare, message, tail = fault.check, fault.compare, fault.message, fault.tail


def account(srv):
    return {"test": {"protocol": "pop3", "port": srv.port, "after_delivery": "delete"}}


def reuse(box, uid, msg):
    """The server now holds only @msg, under the UID (so the UIDL) @uid."""
    with box.lock:
        box.msgs = [(uid, msg)]


def case_reused_after_quit(tmp):
    a, b = message(800), message(801)
    box = Box([a])
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, account(srv))
        code1, out1, _ = s.fetch()
        reuse(box, 1, b)
        start = len(box.log)
        code2, out2, _ = s.fetch()
        log = box.log[start:]
        diff = compare(s.delivered(), [a, b])
        retr_before_dele = [line for _, line, _ in log if line.split()[0] in ("RETR", "DELE")]
        check("POP3 UIDL reused after a clean QUIT: the new message is delivered, then deleted",
              code1 == 0 and code2 == 0 and diff == "" and box.uids() == []
              and retr_before_dele == ["RETR 1", "DELE 1"],
              f"exit {code1}/{code2}: {diff}; second session {retr_before_dele}\n{tail(out1)}{tail(out2)}")


def case_reused_after_lost_quit(tmp):
    a, b = message(810), message(811)
    assert len(a) == len(b)
    box = Box([a])
    box.fault["quit_unanswered"] = "deleted"
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, account(srv))
        code1, out1, _ = s.fetch()
        box.fault.clear()
        reuse(box, 1, b)
        code2, out2, _ = s.fetch()
        diff = compare(s.delivered(), [a, b])
        check("POP3 UIDL reused after a QUIT whose answer was lost (same size): the new message "
              "is delivered, then deleted",
              code1 != 0 and code2 == 0 and diff == "" and box.uids() == [],
              f"exit {code1}/{code2}: {diff}; server {box.uids()}\n{tail(out1)}{tail(out2)}")
        check("POP3 UIDL reused: the log says why the message is delivered again",
              "UIDL" in out2 and "delivering it" in out2, tail(out2))


def case_same_after_lost_quit(tmp):
    a = message(820)
    box = Box([a])
    box.fault["quit_unanswered"] = "kept"
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, account(srv))
        code1, out1, _ = s.fetch()
        box.fault.clear()
        start = len(box.log)
        code2, out2, _ = s.fetch()
        verbs = [line.split()[0] for _, line, _ in box.log[start:]]
        diff = compare(s.delivered(), [a])
        check("POP3 QUIT answer lost, the server kept the message: the next run finds the header "
              "recorded and deletes it without delivering it twice",
              code1 != 0 and code2 == 0 and diff == "" and box.uids() == []
              and "RETR" not in verbs and "DELE" in verbs,
              f"exit {code1}/{code2}: {diff}; server {box.uids()}; second session {verbs}\n"
              f"{tail(out1)}{tail(out2)}")


def case_reused_then_keep(tmp):
    a, b = message(830), message(831)
    box = Box([a])
    with FakeServer(Pop3Handler, box) as srv:
        s = Setup(tmp, account(srv))
        code1, out1, _ = s.fetch()
        reuse(box, 1, b)
        s = Setup(tmp, {"test": {"protocol": "pop3", "port": srv.port, "after_delivery": "keep"}})
        code2, out2, _ = s.fetch()
        diff = compare(s.delivered(), [a, b])
        check("POP3 UIDL reused, next run with after_delivery = keep: the new message is delivered "
              "and left on the server", code1 == 0 and code2 == 0 and diff == "" and box.uids() == [1],
              f"exit {code1}/{code2}: {diff}; server {box.uids()}\n{tail(out1)}{tail(out2)}")


def main():
    if not os.access(fault.MAILSIFT, os.X_OK):
        print(f"1..0 # SKIP {fault.MAILSIFT} is not built")
        return 0
    cases = [
        ("UIDL reused after QUIT", case_reused_after_quit),
        ("UIDL reused after a lost QUIT", case_reused_after_lost_quit),
        ("same message after a lost QUIT", case_same_after_lost_quit),
        ("UIDL reused, then after_delivery = keep", case_reused_then_keep),
    ]
    start = time.monotonic()
    for name, fn in cases:
        with tempfile.TemporaryDirectory(prefix="ms-uidl-") as tmp:
            try:
                fn(tmp)
            except Exception:  # noqa: BLE001
                check(f"{name}: the test itself failed", False, traceback.format_exc())
    print(f"1..{len(fault.results)}")
    print(f"# {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
