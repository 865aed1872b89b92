#!/usr/bin/python3
"""`mailsift fetch` against a real Dovecot over POP3 (POP3S, STLS, plain on
loopback): delivery byte for byte, nothing fetched twice, DELE only after
delivery, certificate checks, and SIGKILL at random moments losing and
duplicating nothing. Dovecot runs privately on 127.0.0.1 (tests/servers.py).
Prints TAP."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from fetchlib import (MAILSIFT, Results, Setup as _Setup, crash_run, digest_set, message,  # noqa: E402
                      oversize_case, run_measured)  # noqa: E402

KILLS = int(os.environ.get("FETCH_CRASH_KILLS", "50"))
CRASH_MESSAGES = int(os.environ.get("FETCH_CRASH_MESSAGES", "1000"))
results = Results()
check = results.check


def Setup(dovecot, tmp, **account):
    return _Setup(dovecot, tmp, "pop3", **account)


def main():
    if not servers.find_program("dovecot"):
        print("1..0 # SKIP dovecot is not installed (tests/install-deps.sh installs it)")
        return 0
    with servers.Dovecot() as dc:
        oversize_case(dc, check, Setup, "POP3")
        msgs = [message(i) for i in range(5)]

        with tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            dc.expunge_all("test")
            dc.fill("test", msgs)
            s = Setup(dc, tmp, after_delivery="delete")
            p = subprocess.run([MAILSIFT, "fetch", "-n", "-c", s.cfg], capture_output=True, timeout=60)
            out = p.stdout.decode(errors="replace")
            check("--dry-run over POP3 (TOP): actions printed, nothing delivered or deleted",
                  p.returncode == 0 and out.count(" -> keep") == 5 and s.delivered() == []
                  and len(dc.list("test")) == 5, out + p.stderr.decode(errors="replace"))
            s = Setup(dc, tmp)
            code, out, err = s.fetch()
            got = s.delivered()
            check("pop3s with ca_file: 5 messages delivered byte for byte",
                  code == 0 and digest_set(got) == digest_set(msgs), f"exit {code}\n{out}{err}")
            check("summary line names the account and the count", "test: 5 fetched" in out, out)
            code, out, err = s.fetch()
            check("second fetch: nothing fetched twice", code == 0 and len(s.delivered()) == 5
                  and "test: 0 fetched" in out, f"exit {code}\n{out}{err}")
            check("after_delivery = keep leaves the mail on the server", len(dc.list("test")) == 5)
            s = Setup(dc, tmp, after_delivery="delete")
            code, out, err = s.fetch()
            check("after_delivery changed to delete: the messages delivered before are deleted, "
                  "not delivered again (Dovecot's TOP n 0 header is the one recorded)",
                  code == 0 and len(s.delivered()) == 5 and dc.list("test") == []
                  and "reused the UIDL" not in err, f"exit {code}\n{out}{err}")
            dc.fill("test", msgs)

        with tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            s = Setup(dc, tmp, port=dc.ports["pop3"], tls="starttls", after_delivery="delete")
            code, out, err = s.fetch()
            check("STLS + after_delivery = delete: delivered, then deleted on the server",
                  code == 0 and len(s.delivered()) == 5 and dc.list("test") == [], f"exit {code}\n{out}{err}")

        dc.fill("test", msgs[:2])
        with tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            s = Setup(dc, tmp, port=dc.ports["pop3"], tls="none", ca_file=None)
            code, out, err = s.fetch()
            check("plaintext POP3 to loopback is allowed", code == 0 and len(s.delivered()) == 2,
                  f"exit {code}\n{out}{err}")

        with tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            s = Setup(dc, tmp, ca_file=None)
            code, out, err = s.fetch()
            fp = dc.fingerprint
            check("unknown CA refused by default, with fingerprint and advice",
                  code == 78 and s.delivered() == [] and fp.lower() in err.lower() and "ca_file" in err,
                  f"exit {code}\n{out}{err}")
            s = Setup(dc, tmp, ca_file=None, pin_sha256=fp)
            code, out, err = s.fetch()
            check("right pin_sha256 accepted", code == 0 and len(s.delivered()) == 2, f"exit {code}\n{out}{err}")
        with tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            wrong = "AA:" * 31 + "AA"
            s = Setup(dc, tmp, ca_file=None, pin_sha256=wrong)
            code, out, err = s.fetch()
            check("wrong pin_sha256 refused", code == 78 and s.delivered() == [] and "pin" in err.lower(),
                  f"exit {code}\n{out}{err}")
            s = Setup(dc, tmp, password_command="/bin/false")
            code, out, err = s.fetch()
            check("failing password_command is a clear error", code != 0 and "password_command" in err,
                  f"exit {code}\n{out}{err}")

        with servers.Dovecot(cert="wrong_host") as other, tempfile.TemporaryDirectory(prefix="ms-pop3-") as tmp:
            other.fill("test", msgs[:1])
            s = Setup(other, tmp)
            code, out, err = s.fetch()
            check("certificate for another host name refused", code == 78 and s.delivered() == []
                  and "host" in err.lower(), f"exit {code}\n{out}{err}")

        # Sieve duplicate and editheader over a fetch: copies of one
        # message in one batch (cross-posted to two lists) are found
        # although the batch's records are not committed yet; the kept
        # copy carries the header edit
        dc.expunge_all("test")
        first = b"List-Id: <a.example.org>\n" + message(500)
        second = b"List-Id: <b.example.org>\n" + message(500)
        other = message(501)
        dc.fill("test", [first, second, other])
        with tempfile.TemporaryDirectory(prefix="ms-pop3-dup-") as tmp:
            script = os.path.join(tmp, "dup.sieve")
            with open(script, "w") as f:
                f.write('require ["duplicate", "editheader"];\n'
                        'if duplicate { discard; stop; }\n'
                        'addheader "X-First-Copy" "yes";\n')
            s = Setup(dc, tmp, script=script)
            code, out, err = s.fetch()
            got = sorted(s.delivered())
            check("duplicate: the second copy in the same batch is discarded, the first carries the new field",
                  code == 0 and got == sorted([b"X-First-Copy: yes\n" + first, b"X-First-Copy: yes\n" + other]),
                  f"exit {code}\n{out}{err}\n{got!r}"[:3000])
            dc.fill("test", [second])
            code, out, err = s.fetch()
            check("duplicate: a copy in a later fetch is discarded too",
                  code == 0 and len(s.delivered()) == 2, f"exit {code}\n{out}{err}")

        # crash test: SIGKILL at random moments, then a clean run
        dc.expunge_all("test")
        many = [message(i, 4000) for i in range(CRASH_MESSAGES)]
        dc.fill("test", many)
        with tempfile.TemporaryDirectory(prefix="ms-pop3-crash-") as tmp:
            s = Setup(dc, tmp, after_delivery="delete")
            check(*crash_run(dc, s, many, KILLS, 1234))

    results.print_tap()
    return 0


if __name__ == "__main__":
    sys.exit(main())
