#!/usr/bin/python3
"""Checks the test-server fixture (tests/servers.py) with Python's own
clients, so that a failing integration test of mailsift can be told
apart from a broken fixture: a private Dovecot (IMAP, IMAPS, POP3, POP3S,
STARTTLS/STLS, fill/save/list/flags/expunge, stop/start, a certificate
for the wrong host) and the aiosmtpd sink (STARTTLS, AUTH, canned
replies, down/up). Every client trusts only the throwaway CA and checks
the host name. Everything stays on 127.0.0.1. Prints TAP."""
import hashlib
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

HOST = servers.HOST
TIMEOUT = 10


def peer_fingerprint(sock):
    digest = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def imaps(d, user="test", password="secret"):
    m = imaplib.IMAP4_SSL(HOST, d.ports["imaps"], ssl_context=d.client_context(), timeout=TIMEOUT)
    m.login(user, password)
    return m


def selected_count(m, folder="INBOX"):
    typ, data = m.select(folder)
    assert typ == "OK", (typ, data)
    return int(data[0])


class Checks:
    def __init__(self, tmp):
        self.tmp = tmp
        self.certs = None
        self.d = None
        self.sink = None
        self.messages = [servers.make_message(i) for i in (1, 2, 3)]

    # -- certificates

    def t_make_ca(self):
        c = self.certs
        form = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){31}$")
        assert form.match(c.fingerprints["good"]), c.fingerprints
        assert form.match(c.fingerprints["wrong_host"]), c.fingerprints
        assert c.fingerprints["good"] != c.fingerprints["wrong_host"]
        for f in (c.ca_file, c.cert_file, c.key_file, c.wrong_cert_file, c.wrong_key_file):
            assert os.path.getsize(f) > 0, f

    # -- Dovecot

    def t_imaps_fill_select(self):
        n = self.d.fill("test", self.messages)
        assert n == 3, n
        m = imaps(self.d)
        try:
            assert selected_count(m) == 3
            typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert b"test message 2" in data[0][1], data
            fp = peer_fingerprint(m.sock)
            assert fp == self.d.fingerprint, (fp, self.d.fingerprint)
        finally:
            m.logout()

    def t_imap_starttls(self):
        m = imaplib.IMAP4(HOST, self.d.ports["imap"], timeout=TIMEOUT)
        try:
            assert "STARTTLS" in m.capabilities, m.capabilities
            m.starttls(ssl_context=self.d.client_context())
            m.login("test", "secret")
            assert selected_count(m) == 3
        finally:
            m.logout()

    def t_wrong_password(self):
        t = time.monotonic()
        for attempt in (1, 2):
            m = imaplib.IMAP4_SSL(HOST, self.d.ports["imaps"], ssl_context=self.d.client_context(), timeout=TIMEOUT)
            try:
                m.login("test", f"wrong{attempt}")
            except imaplib.IMAP4.error:
                pass
            else:
                raise AssertionError("login with a wrong password succeeded")
            finally:
                m.shutdown()
        imaps(self.d).logout()
        took = time.monotonic() - t
        assert took < 3, f"two failures and a login took {took:.1f} s (auth delay or penalty on?)"

    def t_pop3s_stat(self):
        p = poplib.POP3_SSL(HOST, self.d.ports["pop3s"], context=self.d.client_context(), timeout=TIMEOUT)
        try:
            p.user("test")
            p.pass_("secret")
            count, size = p.stat()
            assert count == 3 and size > 0, (count, size)
            _, listing, _ = p.uidl()
            for line in listing:
                assert re.match(rb"^\d+ [0-9A-Fa-f]{16}$", line), listing
        finally:
            p.quit()
        p = poplib.POP3_SSL(HOST, self.d.ports["pop3s"], context=self.d.client_context(), timeout=TIMEOUT)
        try:
            p.user("other")
            p.pass_("secret2")
            assert p.stat() == (0, 0)
        finally:
            p.quit()

    def t_pop3_stls(self):
        p = poplib.POP3(HOST, self.d.ports["pop3"], timeout=TIMEOUT)
        try:
            assert "STLS" in p.capa(), p.capa()
            p.stls(context=self.d.client_context())
            p.user("test")
            p.pass_("secret")
            assert p.stat()[0] == 3
        finally:
            p.quit()

    def t_idle_save_flags(self):
        d = self.d
        m = imaps(d)
        done = False
        try:
            selected_count(m)
            m.fetch("1", "(BODY[])")  # sets \Seen
            tag = m._new_tag()
            m.send(tag + b" IDLE\r\n")
            assert m.readline().startswith(b"+"), "no IDLE continuation"
            d.save("test", servers.make_message(4))
            m.sock.settimeout(5)  # the untagged EXISTS must come within 5 s
            seen = b""
            while b"EXISTS" not in seen:
                seen += m.readline()
            assert b"* 4 EXISTS" in seen, f"IDLE saw {seen!r}"
            m.sock.settimeout(TIMEOUT)
            m.send(b"DONE\r\n")
            while not m.readline().startswith(tag):
                pass
            done = True
        finally:
            if done:
                m.logout()
            else:
                m.shutdown()  # no LOGOUT: in IDLE its answer would never come
        flags = d.flags("test")
        assert len(flags) == 4 and "\\Seen" in flags[0] and "\\Seen" not in flags[1], flags
        got = d.list("test")
        assert got[:3] == self.messages and b"test message 4" in got[3], [x[:60] for x in got]

    def t_folders_expunge(self):
        d = self.d
        d.fill("test", [servers.make_message(5)], folder="Archive")
        m = imaps(d)
        try:
            assert selected_count(m, "Archive") == 1
        finally:
            m.logout()
        d.expunge_all("test", "Archive")
        assert d.list("test", "Archive") == []
        d.save("test", servers.make_message(6), folder="Archive")
        assert len(d.list("test", "Archive")) == 1

    def t_wrong_host_cert(self):
        d = self.d
        d.stop()
        d.cert = "wrong_host"
        d.start()
        try:
            try:
                imaplib.IMAP4_SSL(HOST, d.ports["imaps"], ssl_context=d.client_context(), timeout=TIMEOUT)
            except ssl.SSLCertVerificationError:
                pass
            else:
                raise AssertionError("verified connect to a certificate for mail.test succeeded")
            try:
                p = poplib.POP3_SSL(HOST, d.ports["pop3s"], context=d.client_context(), timeout=TIMEOUT)
                p.quit()
            except ssl.SSLCertVerificationError:
                pass
            else:
                raise AssertionError("verified POP3S connect to a certificate for mail.test succeeded")
            # the CA is trusted: only the name is wrong
            with socket.create_connection((HOST, d.ports["imaps"]), timeout=TIMEOUT) as raw:
                with d.client_context().wrap_socket(raw, server_hostname="mail.test") as s:
                    assert peer_fingerprint(s) == d.fingerprints["wrong_host"] == d.fingerprint
        finally:
            d.stop()
            d.cert = "good"
            d.start()
        with socket.create_connection((HOST, d.ports["imaps"]), timeout=TIMEOUT) as raw:
            with d.client_context().wrap_socket(raw, server_hostname="localhost") as s:
                assert peer_fingerprint(s) == d.fingerprints["good"]

    def t_stop_start(self):
        d = self.d
        ports = dict(d.ports)
        before = d.list("test")
        m = imaps(d)
        selected_count(m)
        d.stop()
        try:
            m.noop()
        except (imaplib.IMAP4.abort, OSError):
            pass
        else:
            raise AssertionError("a connected client survived stop()")
        for name, port in ports.items():
            try:
                socket.create_connection((HOST, port), timeout=2).close()
            except ConnectionRefusedError:
                pass
            else:
                raise AssertionError(f"{name} port {port} still accepts after stop()")
        assert d.list("test") == before  # readable while stopped
        d.start()
        assert d.ports == ports, (d.ports, ports)
        m = imaps(d)
        try:
            assert selected_count(m) == len(before) == 4
        finally:
            m.logout()

    # -- SMTP sink

    def t_smtp_starttls_auth(self):
        s = self.sink
        c = smtplib.SMTP(HOST, s.port, timeout=TIMEOUT)
        try:
            c.ehlo("client.test")
            assert not c.has_extn("auth"), "AUTH offered before STARTTLS"
            code, _ = c.mail("early@example.org")
            assert code == 530, f"MAIL before STARTTLS answered {code}"
            c.starttls(context=s.client_context())
            c.ehlo("client.test")
            assert c.has_extn("auth")
            try:
                c.login("mailsift", "wrong")
            except smtplib.SMTPAuthenticationError:
                pass
            else:
                raise AssertionError("AUTH with a wrong password succeeded")
            c.login("mailsift", "s3cret")
            msg = b"From: a@example.org\r\nSubject: fwd\r\n\r\n.leading dot\r\nbody\r\n"
            refused = c.sendmail("a@example.org", ["b@example.net", "c@example.net"], msg)
            assert refused == {}, refused
        finally:
            c.quit()
        got = s.wait_for(1)[-1]
        assert got.mail_from == "a@example.org", got
        assert got.rcpt_tos == ["b@example.net", "c@example.net"], got
        assert got.data == msg, got.data
        assert got.auth_user == "mailsift" and got.tls, got
        with open(got.path, "rb") as f:
            assert f.read() == msg
        assert os.path.exists(got.path[:-4] + ".json")

    def t_smtp_canned_450(self):
        s = self.sink
        s.reply_for["temp@example.net"] = "450 4.2.1 try later"
        before = len(s.messages)
        c = smtplib.SMTP(HOST, s.port, timeout=TIMEOUT)
        try:
            c.starttls(context=s.client_context())
            c.login("mailsift", "s3cret")
            try:
                c.sendmail("a@example.org", ["temp@example.net"], b"Subject: x\r\n\r\nx\r\n")
            except smtplib.SMTPRecipientsRefused as e:
                assert e.recipients == {"temp@example.net": (450, b"4.2.1 try later")}, e.recipients
            else:
                raise AssertionError("the 450 recipient was accepted")
            refused = c.sendmail("a@example.org", ["TEMP@example.net", "ok@example.net"], b"Subject: y\r\n\r\ny\r\n")
            assert refused == {"TEMP@example.net": (450, b"4.2.1 try later")}, refused
        finally:
            c.quit()
        assert len(s.messages) == before + 1 and s.messages[-1].rcpt_tos == ["ok@example.net"], s.messages
        assert ("RCPT", "temp@example.net", "450 4.2.1 try later") in s.events

    def t_smtp_down_up(self):
        s = self.sink
        c = smtplib.SMTP(HOST, s.port, timeout=TIMEOUT)
        c.ehlo("client.test")
        s.down()
        try:
            c.noop()
        except (smtplib.SMTPServerDisconnected, OSError):
            pass
        else:
            raise AssertionError("a connected client survived down()")
        try:
            smtplib.SMTP(HOST, s.port, timeout=2)
        except ConnectionRefusedError:
            pass
        else:
            raise AssertionError("port still accepts after down()")
        s.up()
        c = smtplib.SMTP(HOST, s.port, timeout=TIMEOUT)
        try:
            c.starttls(context=s.client_context())
            c.login("mailsift", "s3cret")
            c.sendmail("a@example.org", ["back@example.net"], b"Subject: z\r\n\r\nz\r\n")
        finally:
            c.quit()
        assert s.messages[-1].rcpt_tos == ["back@example.net"]

    def t_smtp_implicit_tls(self):
        with servers.SmtpSink(implicit_tls=True, user="u", password="p", certs=self.certs) as s:
            c = smtplib.SMTP_SSL(HOST, s.port, context=s.client_context(), timeout=TIMEOUT)
            try:
                assert peer_fingerprint(c.sock) == self.certs.fingerprint
                c.login("u", "p")
                c.sendmail("a@example.org", ["d@example.net"], b"Subject: t\r\n\r\nt\r\n")
            finally:
                c.quit()
            got = s.wait_for(1)[0]
            assert got.tls and got.auth_user == "u" and got.rcpt_tos == ["d@example.net"], got


def main():
    servers.cleanup_on_signals()
    if not servers.find_program("dovecot") or not servers.find_program("doveadm"):
        print("1..0 # SKIP dovecot is not installed (dovecot-imapd dovecot-pop3d)")
        return 0
    tests = [
        ("make_ca: two leaf certificates with SHA-256 fingerprints", "t_make_ca"),
        ("Dovecot: IMAPS login, fill 3 messages, SELECT sees 3", "t_imaps_fill_select"),
        ("Dovecot: IMAP STARTTLS and login", "t_imap_starttls"),
        ("Dovecot: wrong passwords fail fast, no penalty for the next login", "t_wrong_password"),
        ("Dovecot: POP3S login, STAT and UIDL; second user", "t_pop3s_stat"),
        ("Dovecot: POP3 STLS and login", "t_pop3_stls"),
        ("Dovecot: save() wakes IDLE; flags() and list()", "t_idle_save_flags"),
        ("Dovecot: other folder, expunge_all(), save()", "t_folders_expunge"),
        ("Dovecot: verified connect to the wrong-host certificate fails", "t_wrong_host_cert"),
        ("Dovecot: stop() cuts clients off and refuses; start() keeps ports and mail", "t_stop_start"),
        ("SmtpSink: STARTTLS + AUTH, envelope and data recorded", "t_smtp_starttls_auth"),
        ("SmtpSink: canned 450 for one recipient", "t_smtp_canned_450"),
        ("SmtpSink: down() drops and refuses, up() on the same port", "t_smtp_down_up"),
        ("SmtpSink: implicit TLS with AUTH", "t_smtp_implicit_tls"),
    ]
    print(f"1..{len(tests)}")
    sys.stdout.flush()
    tmp = tempfile.mkdtemp(prefix="mailsift-test-servers-")
    checks = Checks(tmp)
    setup_error = None
    started = time.monotonic()
    try:
        try:
            checks.certs = servers.make_ca(os.path.join(tmp, "ca"))
            checks.d = servers.Dovecot(certs=checks.certs).start()
            checks.sink = servers.SmtpSink(starttls=True, require_starttls=True, user="mailsift",
                                           password="s3cret", certs=checks.certs).up()
        except Exception as e:
            setup_error = f"setting up: {e!r}"
        for i, (name, method) in enumerate(tests, 1):
            problem = setup_error
            if problem is None:
                try:
                    getattr(checks, method)()
                except Exception as e:
                    problem = f"{type(e).__name__}: {e}"
            if problem is None:
                print(f"ok {i} - {name}")
            else:
                print(f"not ok {i} - {name}")
                for line in problem.splitlines():
                    print(f"# {line}")
                if checks.d is not None and method.startswith("t_") and "Dovecot" in name:
                    for line in checks.d.log_text().splitlines()[-15:]:
                        print(f"#   log: {line}")
            sys.stdout.flush()
    finally:
        for server in (checks.sink, checks.d):
            if server is not None:
                server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# {time.monotonic() - started:.1f} s, as uid {os.geteuid()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
