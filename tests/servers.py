"""Throwaway mail servers on 127.0.0.1 for mailsift's integration tests.

Import this from a test in tests/ (sys.path.insert(0, os.path.dirname(
os.path.abspath(__file__))); import servers). Needs Debian's python3 with
nothing beyond the standard library, plus python3-aiosmtpd for SmtpSink
(imported only when a sink is made), the openssl command line tool, and
dovecot-imapd/dovecot-pop3d for Dovecot.

  certs = make_ca(dir)     a throwaway CA and two server certificates:
                           "good" (CN=localhost; SAN localhost, mail.test,
                           127.0.0.1) and "wrong_host" (SAN mail.test only)
  Dovecot(...)             a private Dovecot: IMAP (+STARTTLS), IMAPS,
                           POP3 (+STLS), POP3S on free ports of 127.0.0.1,
                           passwd-file users test/secret and other/secret2
  SmtpSink(...)            an aiosmtpd receiver on a free port of 127.0.0.1
                           that records every message with its envelope
  client_context(ca_file)  an ssl context that trusts only that CA and
                           checks the host name

Both servers are context managers and are also stopped when the process
exits (atexit); call cleanup_on_signals() early in a test so SIGTERM and
SIGHUP unwind the with-blocks too. Set MAILSIFT_KEEP_SERVERS=1 to keep
the temporary directories (config, logs, mail, received messages) for
a post-mortem; their paths are in the .dir attributes.

Nothing here binds or connects anywhere but 127.0.0.1.
"""
import atexit
import errno
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

__all__ = ["HOST", "Certs", "make_ca", "client_context", "free_ports", "make_message",
           "Dovecot", "SmtpSink", "Received", "cleanup_on_signals", "find_program"]

_live = set()  # servers to stop at exit


@atexit.register
def _stop_all():
    for server in list(_live):
        try:
            server.close()
        except Exception:
            pass


def cleanup_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)):
    """Turn the given signals into SystemExit, so that with-blocks (and the
    atexit hook) stop the servers when a harness kills the test."""
    def handler(signum, frame):
        for s in signals:  # once: a second signal must not cut the clean-up short
            signal.signal(s, signal.SIG_IGN)
        raise SystemExit(128 + signum)
    for s in signals:
        signal.signal(s, handler)


def _keep():
    return os.environ.get("MAILSIFT_KEEP_SERVERS", "") not in ("", "0")


def find_program(name):
    """The path of a program, looking also in the sbin directories that an
    unprivileged user's PATH tends to lack; None if it is not installed."""
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"
    return shutil.which(name, path=path)


def free_ports(n=1):
    """n distinct ports of 127.0.0.1 that were free a moment ago: bind port 0
    (all n at once, so they differ), note the ports, close."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _bindable(port):
    """Could a listener bind 127.0.0.1:port now (as asyncio's would, with
    SO_REUSEADDR)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def _accepts(port, timeout=0.5):
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def _listening(port):
    """Is anything listening on 127.0.0.1:port (or the wildcard)? Reads
    /proc/net/tcp, so asking does not open a connection."""
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                addr, _, p = fields[1].partition(":")
                if fields[3] == "0A" and int(p, 16) == port and addr in ("0100007F", "00000000"):
                    return True
        return False
    except OSError:
        return _accepts(port)


def _group_members(pgid):
    """[(pid, program name)] of the live (not zombie) processes in a process
    group; None if /proc cannot be read."""
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid or fields[0] in ("Z", "X"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
            out.append((int(entry), (argv0.split() or [""])[0].rsplit("/", 1)[-1]))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _signal_group(pgid, sig):
    """Signal a process group; False if it has no live members left."""
    if not pgid or pgid <= 1:
        return False
    members = _group_members(pgid)
    if members == []:
        return False
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False


def _end_group(pgid):
    """End what is left of a process group whose leader (a Dovecot master we
    started) has exited: first every member but the log process, so that it
    still writes down their last words, then the rest; SIGKILL if SIGTERM
    does not do."""
    if not pgid or pgid <= 1:
        return
    for pid, name in _group_members(pgid) or ():
        if name != "log":
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 1.0
    while any(name != "log" for _, name in _group_members(pgid) or ()) and time.monotonic() < deadline:
        time.sleep(0.01)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _signal_group(pgid, sig):
            break
        deadline = time.monotonic() + STOP_TIMEOUT / 2
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.01)


def _mkdtemp(prefix, traversable):
    """A private temporary directory. When other users (Dovecot's) must reach
    into it, it is made 0755 and put under /tmp if $TMPDIR is not
    traversable by everyone or is long (unix socket paths are short)."""
    base = tempfile.gettempdir()
    if traversable:
        probe, ok = base, True
        while probe not in ("/", ""):
            try:
                if not os.stat(probe).st_mode & 0o001:
                    ok = False
            except OSError:
                ok = False
            probe = os.path.dirname(probe)
        if not ok or len(base) > 40:
            base = "/tmp"
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    if traversable:
        os.chmod(d, 0o755)
    return d


# ------------------------------------------------------------------ certificates

_OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[good_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, DNS:mail.test, IP:127.0.0.1
[wrong_host_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:mail.test
"""


class Certs:
    """Paths of a throwaway CA and its two server certificates, and the
    SHA-256 fingerprints of the server certificates ("AB:CD:..." form).

    ca_file, ca_key
    cert_file, key_file                   "good": CN=localhost, SAN
                                          DNS:localhost, DNS:mail.test,
                                          IP:127.0.0.1
    wrong_cert_file, wrong_key_file       "wrong_host": CN=mail.test, SAN
                                          DNS:mail.test only
    fingerprints = {"good": ..., "wrong_host": ...}
    fingerprint, wrong_fingerprint        the same two values
    """

    def __init__(self, dir):
        self.dir = dir
        self.ca_file = os.path.join(dir, "ca.pem")
        self.ca_key = os.path.join(dir, "ca.key")
        self.cert_file = os.path.join(dir, "good.pem")
        self.key_file = os.path.join(dir, "good.key")
        self.wrong_cert_file = os.path.join(dir, "wrong_host.pem")
        self.wrong_key_file = os.path.join(dir, "wrong_host.key")
        self.fingerprints = {}

    @property
    def fingerprint(self):
        return self.fingerprints["good"]

    @property
    def wrong_fingerprint(self):
        return self.fingerprints["wrong_host"]

    def pair(self, which="good"):
        """(certificate file, key file) of "good" or "wrong_host"."""
        if which == "good":
            return self.cert_file, self.key_file
        if which == "wrong_host":
            return self.wrong_cert_file, self.wrong_key_file
        raise ValueError(f"no certificate {which!r} (good, wrong_host)")

    def server_context(self, which="good"):
        """An ssl context for a server presenting that certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(*self.pair(which))
        return ctx

    def client_context(self):
        return client_context(self.ca_file)


def _openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout.decode()


def fingerprint_of(cert_file):
    """SHA-256 fingerprint of a PEM certificate, as "AB:CD:..."."""
    out = _openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", cert_file)
    return out.strip().split("=", 1)[1].upper()


def make_ca(dir):
    """Make a throwaway CA and two server certificates in dir (created if
    missing) with the openssl command line tool; returns a Certs."""
    os.makedirs(dir, exist_ok=True)
    c = Certs(dir)
    cnf = os.path.join(dir, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(_OPENSSL_CNF)
    _openssl("req", "-x509", "-new", "-config", cnf, "-extensions", "ca_ext",
             "-newkey", "rsa:2048", "-nodes", "-keyout", c.ca_key, "-out", c.ca_file,
             "-days", "30", "-subj", "/CN=mailsift throwaway test CA")
    for which, cn in (("good", "localhost"), ("wrong_host", "mail.test")):
        cert, key = c.pair(which)
        csr = os.path.join(dir, which + ".csr")
        _openssl("req", "-new", "-config", cnf, "-newkey", "rsa:2048", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
        _openssl("x509", "-req", "-in", csr, "-CA", c.ca_file, "-CAkey", c.ca_key,
                 "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
                 "-extfile", cnf, "-extensions", which + "_ext", "-out", cert)
        os.unlink(csr)
        c.fingerprints[which] = fingerprint_of(cert)
    return c


def client_context(ca_file):
    """A client ssl context that trusts only ca_file (not the system store)
    and checks the server's host name."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def make_message(n=1, subject=None, body=None, sender="alice@example.org",
                 to="test@example.net", size=None):
    """A small RFC 5322 message as bytes (LF line ends); size pads the body
    with lines of x to about that many bytes."""
    subject = subject if subject is not None else f"test message {n}"
    if body is None:
        body = f"This is test message number {n}.\n"
    if isinstance(body, str):
        body = body.encode()
    head = (f"From: {sender}\nTo: {to}\nSubject: {subject}\n"
            f"Message-ID: <test-{n}-{os.getpid()}@mailsift.test>\n"
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n\n").encode()
    msg = head + body
    if size is not None and len(msg) < size:
        line = b"x" * 75 + b"\n"
        msg += line * ((size - len(msg)) // len(line) + 1)
    return msg


# ------------------------------------------------------------------ Dovecot

_MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


class MailFile:
    """One message as it lies in the Maildir: uid (None if Dovecot has not
    seen it yet), flags (a set of IMAP flags and keywords), data (bytes),
    path."""

    def __init__(self, uid, flags, data, path):
        self.uid, self.flags, self.data, self.path = uid, flags, data, path

    def __repr__(self):
        return f"MailFile(uid={self.uid}, flags={sorted(self.flags)}, {len(self.data)} bytes)"


class Dovecot:
    """A private Dovecot instance in a temporary directory.

        with Dovecot() as d:
            d.fill("test", [make_message(1), make_message(2)])
            imaplib.IMAP4_SSL(d.host, d.ports["imaps"], ssl_context=d.client_context())

    host           "127.0.0.1"
    ports          {"imap", "imaps", "pop3", "pop3s"} (chosen once; the same
                   after stop()/start())
    users          {name: password}; default test/secret and other/secret2
    certs          the Certs in use (made in the instance's directory unless
                   passed in; pass one Certs to several servers to share a CA)
    cert           "good" or "wrong_host": what the TLS listeners present;
                   may be changed between stop() and start()
    ca_file, fingerprints, fingerprint (of the certificate presented)
    log, dir, conf paths of the log, the instance directory, the config
    separator      the hierarchy separator ("." by default, as stock Dovecot)

    start(), stop(), close()  start returns once all four ports listen;
                   stop cuts connected clients off and takes about 1 s
                   (Dovecot's own shutdown pause); start after stop gives
                   the same ports and mail; close also removes the directory
    fill(user, messages, folder="INBOX")   files straight into new/, then
                   doveadm force-resync (fast: thousands a second)
    save(user, message, folder="INBOX")    doveadm save (wakes IDLE)
    list(user, folder) -> [bytes], flags(user, folder) -> [set], in UID
                   order, read from the Maildir (also while stopped);
                   messages(user, folder) -> [MailFile] has both and the UID
    expunge_all(user, folder), maildir(user, folder) (its path),
    doveadm(*args) (any doveadm command on this instance), log_text(),
    client_context()

    Logins: PLAIN and LOGIN, plaintext allowed on the non-TLS ports;
    auth_failure_delay = 0 and no anvil auth penalty, so a failed login
    costs about 0.5 s and does not slow down later ones.

    As root the mail processes run as nobody:nogroup and the directory is
    world-traversable (under /tmp); as another user everything runs as
    that user with the login chroots off. Started with `dovecot -F -c
    CONF` as our child (in a session of its own), stopped with SIGTERM to
    the pid in base_dir/master.pid; what the master leaves behind in its
    process group (logged-in sessions, the log process) is ended after."""

    def __init__(self, users=None, certs=None, cert="good", separator=None, settings=None):
        self.host = HOST
        self.settings = dict(settings or {})  # extra top-level dovecot.conf settings
        self.users = dict(users) if users is not None else {"test": "secret", "other": "secret2"}
        self.cert = cert
        self.separator = separator
        self.dovecot = find_program("dovecot")
        self.doveadm_path = find_program("doveadm")
        if not self.dovecot or not self.doveadm_path:
            raise RuntimeError("dovecot/doveadm not installed (dovecot-imapd dovecot-pop3d)")
        self.root = os.geteuid() == 0
        self.dir = _mkdtemp("mailsift-dovecot-", traversable=self.root)
        self._proc = None
        self._group = None  # the process group of the running or last instance
        self._ready_at = 0.0
        self.ports = {}
        try:
            self.certs = certs if certs is not None else make_ca(os.path.join(self.dir, "certs"))
            self.instance_name = "mailsift-test-" + os.path.basename(self.dir).split("-")[-1]
            self.conf = os.path.join(self.dir, "dovecot.conf")
            self.log = os.path.join(self.dir, "dovecot.log")
            self.base_dir = os.path.join(self.dir, "run")
            self.mail_root = os.path.join(self.dir, "mail")
            self._setup_identity()
            for sub in ("run", "state"):
                os.mkdir(os.path.join(self.dir, sub), 0o755)
            for sub in ("mail", "home"):
                os.mkdir(os.path.join(self.dir, sub), 0o700)
                if self.root:
                    os.chown(os.path.join(self.dir, sub), self.mail_uid, self.mail_gid)
            open(self.log, "a").close()
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        _live.add(self)

    # -- identities and configuration

    def _setup_identity(self):
        if self.root:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            try:
                pwd.getpwnam("dovecot")
                pwd.getpwnam("dovenull")
                grp.getgrnam("dovecot")
                self.internal_user, self.internal_group, self.login_user = "dovecot", "dovecot", "dovenull"
            except KeyError:
                g = grp.getgrgid(nobody.pw_gid).gr_name
                self.internal_user, self.internal_group, self.login_user = "nobody", g, "nobody"
        else:
            self.mail_uid, self.mail_gid = os.geteuid(), os.getegid()
            try:
                user = pwd.getpwuid(self.mail_uid).pw_name
                group = grp.getgrgid(self.mail_gid).gr_name
            except KeyError:
                raise RuntimeError(f"uid {self.mail_uid}/gid {self.mail_gid} has no name; Dovecot needs one")
            self.internal_user, self.internal_group, self.login_user = user, group, user

    def _write_config(self):
        cert, key = self.certs.pair(self.cert)
        users = os.path.join(self.dir, "users")
        with open(users, "w") as f:
            for name, password in self.users.items():
                f.write(f"{name}:{{PLAIN}}{password}:::::\n")
        os.chmod(users, 0o600)
        d = self.dir
        lines = [
            f"instance_name = {self.instance_name}",
            f"base_dir = {d}/run",
            f"state_dir = {d}/state",
            f"log_path = {self.log}",
            f"info_log_path = {self.log}",
            f"debug_log_path = {self.log}",
            "listen = 127.0.0.1",
            "protocols = imap pop3",
            "verbose_proctitle = yes",
            "auth_verbose = yes",
            "ssl = yes",
            f"ssl_cert = <{cert}",
            f"ssl_key = <{key}",
            "ssl_min_protocol = TLSv1.2",
        ]
        if os.path.exists("/usr/share/dovecot/dh.pem"):
            lines.append("ssl_dh = </usr/share/dovecot/dh.pem")
        lines += [
            "auth_mechanisms = plain login",
            "disable_plaintext_auth = no",
            "auth_failure_delay = 0",
            "passdb {", "  driver = passwd-file", f"  args = scheme=PLAIN username_format=%n {users}", "}",
            "userdb {", "  driver = passwd-file", f"  args = username_format=%n {users}", "}",
            f"mail_location = maildir:{d}/mail/%n",
            f"mail_home = {d}/home/%n",
            f"mail_uid = {self.mail_uid}",
            f"mail_gid = {self.mail_gid}",
            f"first_valid_uid = {self.mail_uid}",
            f"last_valid_uid = {self.mail_uid}",
            f"first_valid_gid = {self.mail_gid}",
            f"last_valid_gid = {self.mail_gid}",
            "mail_fsync = optimized",
            "pop3_uidl_format = %08Xu%08Xv",
            "mail_max_userip_connections = 100",
            f"default_internal_user = {self.internal_user}",
            f"default_internal_group = {self.internal_group}",
            f"default_login_user = {self.login_user}",
            "namespace inbox {", "  inbox = yes",
        ]
        if self.separator:
            lines.append(f"  separator = {self.separator}")
        lines.append("}")
        lines += [f"{k} = {v}" for k, v in self.settings.items()]
        p = self.ports
        services = {
            "imap-login": [f"inet_listener imap {{\n    port = {p['imap']}\n  }}",
                           f"inet_listener imaps {{\n    port = {p['imaps']}\n    ssl = yes\n  }}"],
            "pop3-login": [f"inet_listener pop3 {{\n    port = {p['pop3']}\n  }}",
                           f"inet_listener pop3s {{\n    port = {p['pop3s']}\n    ssl = yes\n  }}"],
            # no auth penalty: after a failed login anvil would delay every
            # later login from 127.0.0.1 by 2, 4, 8, 15 s
            "anvil": ["unix_listener anvil-auth-penalty {\n    mode = 0\n  }"],
        }
        if self.root:
            # the passwd-file may lie anywhere root can read
            services["auth"] = ["user = root"]
            services["auth-worker"] = ["user = root"]
        else:
            # one user for everything, and no chroot (that needs root)
            services["auth-worker"] = [f"user = {self.internal_user}"]
            for svc in ("imap-login", "pop3-login", "anvil", "ipc", "old-stats", "imap-urlauth-login"):
                services.setdefault(svc, []).append("chroot =")
        for svc, body in services.items():
            lines += [f"service {svc} {{"] + ["  " + b for b in body] + ["}"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- life cycle

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    def start(self):
        """Start (or restart after stop()) the instance: same ports, same mail.
        Returns when all four ports accept connections."""
        if self.running:
            return self
        self.stop()  # finishes an interrupted stop(); nothing otherwise
        first = not self.ports
        for attempt in range(3):
            if first:
                self.ports = dict(zip(("imap", "imaps", "pop3", "pop3s"), free_ports(4)))
            self._write_config()
            try:
                self._launch()
                return self
            except RuntimeError:
                in_use = "in use" in self.log_text() + self._out_text()
                if not (first and in_use and attempt < 2):
                    raise

    def _out_text(self):
        try:
            with open(os.path.join(self.dir, "dovecot.out"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _launch(self):
        out = open(os.path.join(self.dir, "dovecot.out"), "ab")
        try:
            self._proc = subprocess.Popen([self.dovecot, "-F", "-c", self.conf], stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            out.close()
        self._group = self._proc.pid  # a session of its own: the group id
        deadline = time.monotonic() + START_TIMEOUT
        listening_since = None
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                _end_group(self._group)
                self._group = None
                raise RuntimeError(f"dovecot exited with status {code} while starting:\n"
                                   + self._out_text() + self.log_text()[-3000:])
            # listening on every port (the kernel accepts connections from
            # then on; asking /proc/net/tcp does not start login processes),
            # master.pid written, helpers started
            waiting = [p for p in self.ports.values() if not _listening(p)]
            if not waiting and self._master_pid() == self._proc.pid:
                now = time.monotonic()
                listening_since = listening_since or now
                if self._settled() or now - listening_since > 1.0:  # (best effort)
                    self._ready_at = now
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot not ready within {START_TIMEOUT} s (not listening on "
                                   f"{sorted(waiting)}):\n" + self._out_text() + self.log_text()[-3000:])
            time.sleep(0.01)

    def _settled(self):
        """Has the master started its helper processes (log, anvil, config)?
        A SIGTERM before that makes its shutdown take over 5 s."""
        members = _group_members(self._proc.pid)
        if members is None:
            return True  # no /proc: cannot tell
        return {"log", "anvil", "config"} <= {name for _, name in members}

    def _master_pid(self):
        try:
            with open(os.path.join(self.base_dir, "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        """Stop the instance: SIGTERM to the pid in base_dir/master.pid, then
        SIGTERM to what the master leaves behind in its process group
        (Dovecot 2.3 keeps logged-in IMAP/POP3 sessions, and the log process
        serving them, alive after the master exits). Connected clients are
        cut off. Mail and ports are kept for start(). Safe to call again
        if it was interrupted."""
        if self._proc is not None:
            pid = self._master_pid()
            if pid is None or pid != self._proc.pid:
                pid = self._proc.pid  # the master died early or before writing it; it is our child
            # a SIGTERM within a few ms of start-up makes the master linger 6 s
            time.sleep(max(0.0, self._ready_at + 0.1 - time.monotonic()))
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self._proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(self._group, signal.SIGKILL)
                self._proc.wait()
            self._proc = None
        if self._group is not None:
            _end_group(self._group)
            self._group = None
            deadline = time.monotonic() + STOP_TIMEOUT
            while any(_listening(p) for p in self.ports.values()) and time.monotonic() < deadline:
                time.sleep(0.01)

    def close(self):
        """Stop and remove the directory (kept if MAILSIFT_KEEP_SERVERS=1).
        If stopping is interrupted, the instance stays on the list that the
        atexit hook finishes off."""
        self.stop()
        _live.discard(self)
        if not _keep() and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    # -- helpers

    @property
    def ca_file(self):
        return self.certs.ca_file

    @property
    def fingerprints(self):
        return self.certs.fingerprints

    @property
    def fingerprint(self):
        return self.certs.fingerprints[self.cert]

    def client_context(self):
        return client_context(self.certs.ca_file)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def doveadm(self, *args, input=None, check=True):
        """Run `doveadm -c CONF ARGS...` (needs the instance running);
        returns its stdout as bytes."""
        p = subprocess.run([self.doveadm_path, "-c", self.conf, *args], input=input,
                           capture_output=True, timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: exit {p.returncode}: "
                               + p.stderr.decode(errors="replace").strip())
        return p.stdout

    def maildir(self, user, folder="INBOX"):
        """The Maildir directory of a user's folder (Maildir++ layout)."""
        root = os.path.join(self.mail_root, user)
        if folder.upper() == "INBOX":
            return root
        name = folder.replace(self.separator, ".") if self.separator else folder
        return os.path.join(root, "." + name)

    def _ensure_folder(self, user, folder):
        path = self.maildir(user, folder)
        made = []
        for d in (os.path.dirname(path), path, *(os.path.join(path, s) for s in ("cur", "new", "tmp"))):
            if not os.path.isdir(d):
                os.mkdir(d, 0o700)
                made.append(d)
        if path != os.path.join(self.mail_root, user):
            marker = os.path.join(path, "maildirfolder")
            if not os.path.exists(marker):
                open(marker, "w").close()
                made.append(marker)
        if self.root:
            for m in made:
                os.chown(m, self.mail_uid, self.mail_gid)
        return path

    _seq = 0

    def fill(self, user, messages, folder="INBOX"):
        """Put messages (bytes or str each) straight into the folder's new/,
        then `doveadm force-resync` if the instance runs (without it Dovecot
        finds them at its next sync). Returns the number written."""
        path = self._ensure_folder(user, folder)
        n = 0
        now = int(time.time())
        for m in messages:
            if isinstance(m, str):
                m = m.encode()
            Dovecot._seq += 1
            name = f"{now}.M{Dovecot._seq}P{os.getpid()}.mailsift-test"
            tmp = os.path.join(path, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(m)
            if self.root:
                os.chown(tmp, self.mail_uid, self.mail_gid)
            os.rename(tmp, os.path.join(path, "new", name))
            n += 1
        if self.running:
            self.doveadm("force-resync", "-u", user, folder)
        return n

    def save(self, user, message, folder="INBOX"):
        """Deliver one message through `doveadm save` (the instance must run):
        the way to make an IDLEing client see new mail."""
        if isinstance(message, str):
            message = message.encode()
        self._ensure_folder(user, folder)
        self.doveadm("save", "-u", user, "-m", folder, input=message)

    def expunge_all(self, user, folder="INBOX"):
        """Remove every message of the folder (`doveadm expunge`, or by
        deleting the files while the instance is stopped)."""
        if self.running:
            self.doveadm("expunge", "-u", user, "mailbox", folder, "all")
        else:
            path = self.maildir(user, folder)
            for sub in ("cur", "new"):
                d = os.path.join(path, sub)
                for fn in os.listdir(d) if os.path.isdir(d) else ():
                    os.unlink(os.path.join(d, fn))

    def messages(self, user, folder="INBOX"):
        """The folder's messages as MailFile objects, read from the Maildir
        (works while stopped), in UID order (not yet seen by Dovecot: last)."""
        for attempt in range(20):
            try:
                return self._read_maildir(self.maildir(user, folder))
            except FileNotFoundError:
                # Dovecot renamed (flags) or deleted a file under our feet
                time.sleep(0.02)
        return self._read_maildir(self.maildir(user, folder))

    def _read_maildir(self, path):
        uids = {}
        try:
            with open(os.path.join(path, "dovecot-uidlist"), errors="replace") as f:
                next(f, None)
                for line in f:
                    m = re.match(r"^(\d+)\b.*?:(\S+)$", line.rstrip("\n"))
                    if m:
                        uids[m.group(2).split(":2,")[0]] = int(m.group(1))
        except OSError:
            pass
        keywords = {}
        try:
            with open(os.path.join(path, "dovecot-keywords"), errors="replace") as f:
                for line in f:
                    idx, _, word = line.strip().partition(" ")
                    if idx.isdigit():
                        keywords[chr(ord("a") + int(idx))] = word
        except OSError:
            pass
        out = []
        for sub in ("cur", "new"):
            d = os.path.join(path, sub)
            for fn in sorted(os.listdir(d)) if os.path.isdir(d) else ():
                base, _, info = fn.partition(":2,")
                flags = set()
                for ch in info:
                    if ch in _MAILDIR_FLAGS:
                        flags.add(_MAILDIR_FLAGS[ch])
                    elif ch in keywords:
                        flags.add(keywords[ch])
                with open(os.path.join(d, fn), "rb") as f:
                    data = f.read()
                out.append(MailFile(uids.get(base), flags, data, os.path.join(d, fn)))
        out.sort(key=lambda m: (m.uid is None, m.uid or 0, m.path))
        return out

    def list(self, user, folder="INBOX"):
        """The folder's messages (bytes, as stored), in UID order."""
        return [m.data for m in self.messages(user, folder)]

    def flags(self, user, folder="INBOX"):
        """The folder's flags: a list of sets (IMAP flags such as \\Seen, and
        keywords), in the order of list()."""
        return [m.flags for m in self.messages(user, folder)]


# ------------------------------------------------------------------ SMTP sink

class Received:
    """One message the sink accepted: mail_from ("<>" for the null
    sender), rcpt_tos (list), data
    (bytes, CRLF as sent, dot-stuffing undone), auth_user (None if the
    client did not authenticate), tls (bool), path (the .eml file; the
    envelope is in the .json file beside it)."""

    def __init__(self, mail_from, rcpt_tos, data, auth_user, tls, path):
        self.mail_from, self.rcpt_tos, self.data = mail_from, rcpt_tos, data
        self.auth_user, self.tls, self.path = auth_user, tls, path

    def __repr__(self):
        return (f"Received(mail_from={self.mail_from!r}, rcpt_tos={self.rcpt_tos!r}, "
                f"{len(self.data)} bytes, auth_user={self.auth_user!r}, tls={self.tls})")


class SmtpSink:
    """An SMTP receiver (python3-aiosmtpd) on a free port of 127.0.0.1.

        with SmtpSink(starttls=True, user="u", password="p") as sink:
            sink.reply_for["temp@example.net"] = "450 4.2.1 try later"
            ... send to sink.host, sink.port ...
            sink.wait_for(1); sink.messages[0].rcpt_tos

    starttls            offer STARTTLS; require_starttls: refuse mail
                        before it
    implicit_tls        TLS from the first byte (SMTPS) instead
    user, password      offer AUTH PLAIN and LOGIN with these credentials
                        (without a user AUTH is not offered);
                        auth_require_tls: offer AUTH only under TLS (default);
                        auth_required: refuse mail without AUTH
    certs, cert         as for Dovecot ("good" or "wrong_host")
    data_size_limit     the SIZE limit in bytes (None: no limit)

    Replies, settable any time (also while clients are connected):
      reply_for[address]   the answer to RCPT TO that address (case does
                           not matter), e.g. "450 4.2.1 try later"
      mail_reply           the answer to every MAIL FROM, if set
      data_reply           the answer after DATA, if set (a non-2xx reply
                           means the message is not recorded)
    Recorded: messages (Received, accepted ones), events (a list of tuples:
    ("EHLO", name), ("AUTH", mechanism, login, ok), ("MAIL", address,
    reply), ("RCPT", address, reply), ("DATA", reply)), and files
    NNNN.eml/NNNN.json under dir/spool.
    down() stops listening and drops the clients; up() listens again on the
    same port."""

    def __init__(self, starttls=False, require_starttls=False, implicit_tls=False, user=None,
                 password=None, auth_require_tls=True, auth_required=False, certs=None, cert="good",
                 data_size_limit=33554432):
        import logging
        from aiosmtpd.controller import Controller  # only the SMTP tests need aiosmtpd
        from aiosmtpd.smtp import AuthResult

        if not os.environ.get("MAILSIFT_SMTP_DEBUG"):
            # aiosmtpd logs deprecation chatter for every AUTH
            logging.getLogger("mail.log").setLevel(logging.ERROR)

        self.host = HOST
        self.starttls, self.require_starttls, self.implicit_tls = starttls, require_starttls, implicit_tls
        self.user, self.password = user, password
        self.auth_require_tls, self.auth_required = auth_require_tls, auth_required
        self.cert = cert
        self.data_size_limit = data_size_limit
        self.reply_for = {}
        self.mail_reply = None
        self.data_reply = None
        self.messages = []
        self.events = []
        self._cond = threading.Condition()
        self._controller = None
        self._was_up = False
        self.dir = _mkdtemp("mailsift-smtp-", traversable=False)
        self.spool = os.path.join(self.dir, "spool")
        os.mkdir(self.spool)
        try:
            if (starttls or implicit_tls) and certs is None:
                certs = make_ca(os.path.join(self.dir, "certs"))
            self.certs = certs
            self.port = free_ports(1)[0]
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                session.host_name = hostname
                sink._event("EHLO", hostname)
                if sink.user is None:
                    responses = [r for r in responses if not r[4:].upper().startswith("AUTH")]
                return responses

            async def handle_MAIL(self, server, session, envelope, address, options):
                reply = sink.mail_reply
                sink._event("MAIL", address, reply or "250 OK")
                if reply:
                    return reply
                envelope.mail_from = address
                envelope.mail_options.extend(options)
                return "250 OK"

            async def handle_RCPT(self, server, session, envelope, address, options):
                canned = {k.lower(): v for k, v in list(sink.reply_for.items())}
                reply = canned.get(address.lower())
                sink._event("RCPT", address, reply or "250 OK")
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                envelope.rcpt_options.extend(options)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                reply = sink.data_reply
                if reply and not reply.startswith("2"):
                    sink._event("DATA", reply)
                    return reply
                tls = sink.implicit_tls or session.ssl is not None
                auth_user = None
                if session.authenticated and session.auth_data is not None:
                    auth_user = session.auth_data.login.decode(errors="replace")
                n = sink._record(envelope, auth_user, tls)
                reply = reply or f"250 2.0.0 OK queued as {n:04d}"
                sink._event("DATA", reply)
                return reply

        def authenticator(server, session, envelope, mechanism, auth_data):
            login = getattr(auth_data, "login", b"").decode(errors="replace")
            password = getattr(auth_data, "password", b"").decode(errors="replace")
            ok = sink.user is not None and login == sink.user and password == sink.password
            sink._event("AUTH", mechanism, login, ok)
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        class SinkController(Controller):
            def factory(self):
                smtp = super().factory()
                sink._sessions.append(smtp)
                return smtp

        self._handler = Handler()
        self._authenticator = authenticator
        self._controller_class = SinkController
        self._sessions = []
        _live.add(self)

    def _event(self, *ev):
        with self._cond:
            self.events.append(ev)

    def _record(self, envelope, auth_user, tls):
        data = envelope.original_content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with self._cond:
            n = len(self.messages) + 1
            path = os.path.join(self.spool, f"{n:04d}.eml")
            with open(path, "wb") as f:
                f.write(data)
            with open(path[:-4] + ".json", "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                           "auth_user": auth_user, "tls": tls}, f)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data,
                                          auth_user, tls, path))
            self._cond.notify_all()
            return n

    def wait_for(self, count, timeout=10.0):
        """Wait until at least count messages were accepted; returns the
        messages (raises TimeoutError otherwise)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} messages after {timeout} s, wanted {count}")
            return list(self.messages)

    def client_context(self):
        return client_context(self.certs.ca_file)

    @property
    def ca_file(self):
        return self.certs.ca_file if self.certs else None

    @property
    def fingerprint(self):
        return self.certs.fingerprints[self.cert] if self.certs else None

    @property
    def running(self):
        return self._controller is not None

    def up(self):
        """Listen (again, on the same port)."""
        if self._controller is not None:
            return self
        # aiosmtpd's controller notices a failed bind only after its whole
        # ready_timeout, so make sure of the port first: a fresh sink takes
        # another free port, a restarted one waits for its own
        deadline = time.monotonic() + START_TIMEOUT
        while not _bindable(self.port):
            if not self._was_up:
                self.port = free_ports(1)[0]
            elif time.monotonic() > deadline:
                raise OSError(errno.EADDRINUSE, f"port {self.port} of {HOST} stays in use")
            else:
                time.sleep(0.05)
        ctx = self.certs.server_context(self.cert) if (self.starttls or self.implicit_tls) else None
        kwargs = dict(
            hostname=HOST, port=self.port, server_hostname="localhost", ready_timeout=START_TIMEOUT,
            data_size_limit=self.data_size_limit, decode_data=False,
            auth_required=self.auth_required,
            # under implicit TLS aiosmtpd does not know the session is encrypted
            auth_require_tls=self.auth_require_tls and not self.implicit_tls,
        )
        if self.user is not None:
            kwargs["authenticator"] = self._authenticator
        if self.implicit_tls:
            kwargs["ssl_context"] = ctx
        elif self.starttls:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = self.require_starttls
        c = self._controller_class(self._handler, **kwargs)
        try:
            c.start()
        except BaseException:
            try:
                c.stop(no_assert=True)
            except Exception:
                pass
            raise
        self._controller = c
        self._was_up = True
        return self

    def down(self):
        """Stop listening and drop every connected client (no goodbye)."""
        c = self._controller
        if c is None:
            return
        self._controller = None

        def drop():
            for smtp in self._sessions:
                for t in (getattr(smtp, "_original_transport", None), getattr(smtp, "transport", None)):
                    if t is not None:
                        try:
                            t.abort()
                        except Exception:
                            pass
            self._sessions.clear()
        try:
            c.loop.call_soon_threadsafe(drop)
        except RuntimeError:  # the loop is already closed
            pass
        c.stop(no_assert=True)

    def close(self):
        self.down()
        _live.discard(self)
        if not _keep() and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.up()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False
