#!/usr/bin/python3
"""Differential test: `mailsift test` with each Sieve engine against Pigeonhole.

Every (script, message) pair listed in tests/diff/cases.tsv is run through
Pigeonhole's `sieve-test` and through `$MAILSIFT test` once per mailsift
Sieve engine (`[general] sieve_engine = mailsift | libsieve`, each from a
private configuration file given with -c). Pigeonhole's report is
rewritten into the action lines `mailsift test` prints (see mailsift(1)):

    keep [flags=\\Flagged,\\Seen]      fileinto "Folder" [flags=...]
    redirect "addr"                    discard
    reject "text"
    vacation to="a" subject="s" days=N [from="f"] [handle="h"] [mime]
    notify method="mailto:a[,b...]" priority=N [message="m"]

and the two results are compared as sets. cases.tsv has one column per
engine, `mailsift` and `libsieve`, each saying `same` or
`differs: <cause>`. For a `differs` row the exact lines that engine
prints are pinned in tests/diff/pinned/CASE.ENGINE, and the engine's
output must equal them; a `differs` row whose output equals Pigeonhole's
fails too (the difference went away: make the row `same` and delete the
pinned file). Output is TAP, one test per case and engine.

    tests/diff-pigeonhole.py                 run every case
    tests/diff-pigeonhole.py 05 vacation     run the cases whose name contains 05 or vacation
    tests/diff-pigeonhole.py --pigeonhole    print Pigeonhole's normalised result per case
    tests/diff-pigeonhole.py --pin [CASE...] write the pinned files of the `differs` rows
                                             from what the engines print now (check them
                                             first); removes pinned files of `same` rows
    tests/diff-pigeonhole.py --list          Markdown tables of the known differences

Environment: MAILSIFT (default: ../mailsift next to this file),
MAILSIFT_WRAPPER (e.g. valgrind ...; put in front of every mailsift run),
SIEVE_TEST (default: sieve-test from PATH, then /usr/bin/sieve-test),
DIFF_ENGINES (default "mailsift libsieve": the engines to run),
DIFF_JOBS (cases run in parallel; default: the number of CPUs).

Notes on the normalised form. Pigeonhole's redirect :copy and fileinto
:copy leave the implicit keep, so they read as redirect/fileinto plus
keep. editheader changes are not actions; later tests see them. A notify
(enotify, mailto only) is written with the recipients Pigeonhole
resolved from the URI (To, then Cc), the importance (1, 2 or 3; 2 when
the script gives none), and the :message if any; a notify that
Pigeonhole would not send (auto-submitted message) is dropped, as is a
vacation it would not send. `mime` is shown for a vacation :mime without
:handle (Pigeonhole's output does not tell otherwise).

sieve-test runs with a private configuration written to a temporary
directory (never /etc/dovecot), one for all cases. Extensions that are
off by default (editheader, vacation-seconds, spamtest, spamtestplus,
virustest) are on; spamtest reads X-Spam-Score (0..10), virustest
X-Virus-Score (0..5); :personal includes come from tests/diff/include/
and :global ones from tests/diff/include/global/. sieve-test and
mailsift both run with TZ=UTC, the local time zone of the date tests.
When this runs as root, Dovecot refuses to touch mail as root, so the
configuration sets mail_uid/mail_gid to the unprivileged user "nobody"
and the temporary directory is handed to it.
"""

import base64
import concurrent.futures
import email.header
import email.parser
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(TESTS)
DIFF = os.path.join(TESTS, "diff")
CASES_TSV = os.path.join(DIFF, "cases.tsv")
PINNED = os.path.join(DIFF, "pinned")
INCLUDE = os.path.join(DIFF, "include")
TIMEOUT = 60
ENGINES = ("mailsift", "libsieve")

SYSTEM_FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]


class HarnessError(Exception):
    """sieve-test did something this program does not understand."""


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, name, message, env_from, env_to, expect, lineno):
        self.name = name
        self.message = message
        self.env_from = env_from  # "" is the null sender (<> in cases.tsv)
        self.env_to = env_to
        self.lineno = lineno
        self.cause = {}  # engine -> None (same) or the cause of the difference
        for engine, text in zip(ENGINES, expect):
            if text == "same":
                self.cause[engine] = None
            elif text.startswith("differs:") and text[len("differs:"):].strip():
                self.cause[engine] = text[len("differs:"):].strip()
            else:
                raise ValueError("cases.tsv line %d: column %s must be 'same' or 'differs: <cause>'"
                                 % (lineno, engine))
        self.script_path = os.path.join(DIFF, "cases", name + ".sieve")
        self.message_path = os.path.join(DIFF, "messages", message)

    def pinned_path(self, engine):
        return os.path.join(PINNED, "%s.%s" % (self.name, engine))


def load_cases():
    cases = []
    ncols = 4 + len(ENGINES)
    with open(CASES_TSV, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split("\t")]
            if cols[0] == "case":
                if cols[4:] != list(ENGINES):
                    raise ValueError("cases.tsv line %d: the engine columns must be %s"
                                     % (lineno, ", ".join(ENGINES)))
                continue
            if len(cols) != ncols:
                raise ValueError("cases.tsv line %d: expected %d tab-separated columns, got %d"
                                 % (lineno, ncols, len(cols)))
            name, message, env_from, env_to = cols[:4]
            if env_from == "<>":
                env_from = ""
            case = Case(name, message, env_from, env_to, cols[4:], lineno)
            for path in (case.script_path, case.message_path):
                if not os.path.isfile(path):
                    raise ValueError("cases.tsv line %d: %s does not exist" % (lineno, path))
            cases.append(case)
    names = [c.name for c in cases]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError("cases.tsv: duplicate case names: " + ", ".join(dups))
    return cases


def stale_pins(cases):
    """Pinned files that belong to no `differs` row."""
    wanted = {c.pinned_path(e) for c in cases for e in ENGINES if c.cause[e]}
    if not os.path.isdir(PINNED):
        return []
    return sorted(p for p in (os.path.join(PINNED, n) for n in os.listdir(PINNED))
                  if p not in wanted)


def read_pinned(case, engine):
    try:
        with open(case.pinned_path(engine), encoding="utf-8", errors="surrogateescape") as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- format

def quote(s):
    """A string as `mailsift test` prints it (ms_action_format)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ascii_lower(s):
    return "".join(c.lower() if c < "\x80" else c for c in s)


def format_flags(words):
    """System flags get their canonical spelling, duplicates go (ignoring
    case), and the rest is sorted case-insensitively, like mailsift."""
    flags = []
    for w in words:
        for sf in SYSTEM_FLAGS:
            if ascii_lower(w) == ascii_lower(sf):
                w = sf
        if w and all(ascii_lower(w) != ascii_lower(f) for f in flags):
            flags.append(w)
    if not flags:
        return ""
    return " flags=" + ",".join(sorted(flags, key=ascii_lower))


# ---------------------------------------------------------------- Pigeonhole

DOVECOT_CONF = """\
# Written by tests/diff-pigeonhole.py for one test run; nothing is read
# from /etc/dovecot. Only sieve-test uses it.
base_dir = "{top}/run"
state_dir = "{top}/state"
log_path = /dev/stderr
info_log_path = /dev/stderr
debug_log_path = /dev/stderr
mail_location = "maildir:{top}/mail"
recipient_delimiter = +
{uid_settings}
plugin {{
  # Pinned to the Pigeonhole 0.5.19 defaults so that a different
  # packaging default cannot change the results, except the longest
  # period: 30 days, mailsift's default vacation_max_days (Pigeonhole's
  # is 60).
  sieve_vacation_min_period = 1d
  sieve_vacation_default_period = 7d
  sieve_vacation_max_period = 30d
  sieve_vacation_dont_check_recipient = no
  sieve_vacation_use_original_recipient = no
  sieve_max_redirects = 4
  # off by default
  sieve_extensions = +editheader +vacation-seconds +spamtest +spamtestplus +virustest
  sieve_spamtest_status_type = score
  sieve_spamtest_status_header = X-Spam-Score
  sieve_spamtest_max_value = 10
  sieve_virustest_status_type = score
  sieve_virustest_status_header = X-Virus-Score
  sieve_virustest_max_value = 5
  # include :personal and :global
  sieve_dir = "{top}/include"
  sieve_global_dir = "{top}/include/global"
}}
"""


class Pigeonhole:
    def __init__(self, exe, top):
        self.exe = exe
        self.top = top
        self.owner = None
        uid_settings = ""
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("nobody")
                self.owner = (pw.pw_uid, pw.pw_gid)
            except KeyError:
                self.owner = (65534, 65534)
            uid_settings = "mail_uid = %d\nmail_gid = %d\n" % self.owner
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(top, d))
        # copies: sieve-test writes compiled .svbin files next to scripts
        if os.path.isdir(INCLUDE):
            shutil.copytree(INCLUDE, os.path.join(top, "include"))
        os.makedirs(os.path.join(top, "include", "global"), exist_ok=True)
        self.conf = os.path.join(top, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(top=top, uid_settings=uid_settings))
        self._chown(top)

    def _chown(self, path):
        if self.owner is None:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, *self.owner)
            for n in files:
                os.chown(os.path.join(root, n), *self.owner)

    def _run(self, case, workdir, extra):
        args = [self.exe, "-c", self.conf, "-r", case.env_to, "-a", case.env_to]
        # sieve-test cannot be given the null sender (-f "" and -f "<>" are
        # refused); without -f it takes the sender from Return-Path, then
        # Sender, then From. For a bounce (Return-Path: <>) that is the
        # MAILER-DAEMON address in From, which Pigeonhole's vacation also
        # never answers, so the vacation decision is the same. Do not write
        # envelope tests against the null sender.
        if case.env_from:
            args += ["-f", case.env_from]
        args += extra + [os.path.join(workdir, "script.sieve"), os.path.join(workdir, "message.eml")]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "LANG": "C.UTF-8",
               "TZ": "UTC"}
        p = subprocess.run(args, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        return (p.returncode, p.stdout.decode("utf-8", "surrogateescape"),
                p.stderr.decode("utf-8", "surrogateescape"))

    def run(self, case):
        """Returns (sorted list of normalised action lines, notes)."""
        workdir = os.path.join(self.top, case.name)
        os.mkdir(workdir)
        os.mkdir(os.path.join(workdir, "Maildir"))
        shutil.copyfile(case.script_path, os.path.join(workdir, "script.sieve"))
        shutil.copyfile(case.message_path, os.path.join(workdir, "message.eml"))
        self._chown(workdir)
        notes = []

        rc, out, err = self._run(case, workdir, [])
        if "failed to compile sieve script" in err and re.search(r"^script: (line \d+: )?error:", err, re.M):
            # Delivery falls back to keep when the script does not compile.
            notes += ["pigeonhole: " + l for l in err.splitlines()
                      if l.startswith("script:") and "error:" in l
                      and "validation failed" not in l][:3]
            return ["keep"], notes
        if "resolved with successful implicit keep" in err:
            # runtime error (e.g. reject combined with fileinto)
            notes += ["pigeonhole: " + l for l in err.splitlines() if "error:" in l][:3]
            return ["keep"], notes
        if rc != 0 or "Performed actions:" not in out:
            raise HarnessError("sieve-test exited %d\n%s%s" % (rc, out, err))
        actions = parse_result(out)

        if any(a["kind"] in ("vacation", "reject", "notify") for a in actions):
            # Plain sieve-test lists a vacation or notification even when
            # delivery would not send it, and shortens reject reasons
            # (str_sanitize). So run again with -e (really execute, into a
            # private Maildir; its outgoing mail is printed, not sent) and
            # take Pigeonhole's own decisions and the exact reject text
            # from that run.
            maildir = os.path.join(workdir, "Maildir")
            for a in actions:
                if a["kind"] == "fileinto":
                    # fileinto fails (and so does the whole run) unless
                    # the folder exists
                    for sub in ("cur", "new", "tmp"):
                        os.makedirs(os.path.join(maildir, "." + imap_utf7(a["folder"]), sub), exist_ok=True)
            self._chown(maildir)
            _, xout, xerr = self._run(case, workdir, ["-e", "-l", "maildir:" + maildir])
            notify_log = re.findall(r"^sieve-test: \w+: sieve: [^\n]*?(notify action: sent mail notification"
                                    r"|not sending notification[^\n]*)", xerr, re.M)
            for a in actions:
                if a["kind"] == "vacation":
                    settle_vacation(a, xout, xerr, notes)
                elif a["kind"] == "reject":
                    a["reason"] = exact_reject_reason(xout, a["reason"])
                elif a["kind"] == "notify":
                    if not notify_log:
                        raise HarnessError("sieve-test -e did not say whether it sent the notification:\n"
                                           + xerr)
                    said = notify_log.pop(0)
                    a["send"] = said.startswith("notify action: sent")
                    if not a["send"]:
                        notes.append("pigeonhole: notification not sent: " + said)
        return normalise(actions), notes


def imap_utf7(name):
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), as
    Dovecot's Maildir++ directories are named."""
    out, run = [], []

    def flush():
        if run:
            b = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def parse_result(out):
    """sieve-test's "Performed actions" and "Implicit keep" lists."""
    actions = []
    current = None
    in_message = False
    in_body = False
    last_attr = None
    for line in out.splitlines():
        if last_attr is not None:
            if line != "START MESSAGE":
                # the default handle contains the reason, which may span
                # lines; an empty line comes before START MESSAGE
                current[last_attr] += "\n" + line
                continue
            if current[last_attr].endswith("\n"):
                current[last_attr] = current[last_attr][:-1]
            last_attr = None
        if in_message:
            if line == "END MESSAGE":
                in_message = False
            elif current is not None and current["kind"] == "vacation":
                current["reason"].append(line)
            continue
        if in_body:
            # a notification's body, between two "--" lines
            if line == "--" and current["body_started"]:
                in_body = False
            current["body_started"] = True
            continue
        if line in ("Performed actions:", "Implicit keep:", "") or line.strip() == "(none)":
            continue
        if line == "START MESSAGE":
            in_message = True
            continue
        m = re.match(r"^ \* (.*)$", line)
        if m:
            current = parse_action(m.group(1))
            if current is not None:
                actions.append(current)
            continue
        if current is None and re.match(r"^\s+\+ ", line):
            continue
        m = re.match(r"^\s+\+ add IMAP flags:(.*)$", line)
        if m and current["kind"] in ("keep", "fileinto"):
            current["flags"] += m.group(1).split()
            continue
        if re.match(r"^\s+\+ (preserve implicit keep|create mailbox if it does not exist)$", line):
            continue
        m = re.match(r"^\s+=> (\w+)\s*: ?(.*)$", line)
        if m and current is not None and current["kind"] == "vacation":
            current[m.group(1)] = m.group(2)
            if m.group(1) == "handle":
                last_attr = "handle"
            continue
        if m and current is not None and current["kind"] == "notify":
            if m.group(1) != "recipients":  # they follow, one per line
                current[m.group(1)] = m.group(2)
            if m.group(1) == "body":
                in_body = True
                current["body_started"] = False
            continue
        m = re.match(r"^\s+\+ (To|Cc): (.*)$", line)
        if m and current is not None and current["kind"] == "notify":
            current["recipients"].append(m.group(2))
            continue
        raise HarnessError("unexpected line in sieve-test output: %r\n%s" % (line, out))
    return actions


def parse_action(text):
    m = re.match(r"^store message in folder: (.*)$", text)
    if m:
        folder = m.group(1)
        if folder.upper() in ("INBOX", ""):  # "" is stored into INBOX
            return {"kind": "keep", "flags": []}
        return {"kind": "fileinto", "folder": folder, "flags": []}
    if text == "keep":
        return {"kind": "keep", "flags": []}
    m = re.match(r"^redirect message to: <?(.*?)>?$", text)
    if m:
        return {"kind": "redirect", "address": m.group(1)}
    m = re.match(r"^reject message with reason: (.*)$", text, re.S)
    if m:
        return {"kind": "reject", "reason": m.group(1)}
    if text == "discard":
        return {"kind": "discard"}
    if text == "send vacation message:":
        return {"kind": "vacation", "reason": []}
    m = re.match(r"^send notification with method '(\w+):':$", text)
    if m:
        return {"kind": "notify", "scheme": m.group(1), "recipients": []}
    if text.startswith("track duplicate"):
        return None  # the duplicate test's bookkeeping, no action
    raise HarnessError("unknown sieve-test action: %r" % text)


def settle_vacation(a, out, err, notes):
    m = re.search(r"vacation action: sent vacation response to <([^>]*)>", err)
    if m:
        a["send"] = True
        a["to"] = m.group(1)
        a["real_subject"] = vacation_subject(out)
        return
    m = re.search(r"vacation action: ((?:discard|not sending)[^\n]*)", err)
    if m:
        a["send"] = False
        notes.append("pigeonhole: vacation not sent: " + m.group(1))
        return
    raise HarnessError("sieve-test -e did not say whether it sent the vacation:\n" + err)


def vacation_subject(out):
    """Subject of the vacation reply sieve-test -e printed."""
    for m in re.finditer(r"^X-Sieve: ", out, re.M):
        head = email.parser.HeaderParser().parsestr(out[m.start():], headersonly=True)
        if (head.get("Auto-Submitted") or "").startswith("auto-replied") and head.get("Subject") is not None:
            raw = re.sub(r"\r?\n(?=[ \t])", "", str(head["Subject"]))
            return str(email.header.make_header(email.header.decode_header(raw)))
    return None


def exact_reject_reason(out, printed):
    """The rejection MDN carries the reason verbatim between these two
    markers (sieve_action_reject_mail); line ends become LF."""
    m = re.search(r'boundary="([^"]+)"', out)
    start = out.find("was automatically rejected:\r\n")
    if m is None or start < 0:
        return printed
    start += len("was automatically rejected:\r\n")
    end = out.find("\r\n--" + m.group(1), start)
    if end < 0:
        return printed
    return out[start:end].replace("\r\n", "\n")


def normalise(actions):
    lines = []
    for a in actions:
        k = a["kind"]
        if k == "keep":
            lines.append("keep" + format_flags(a["flags"]))
        elif k == "fileinto":
            lines.append("fileinto " + quote(a["folder"]) + format_flags(a["flags"]))
        elif k == "redirect":
            lines.append("redirect " + quote(a["address"]))
        elif k == "discard":
            lines.append("discard")
        elif k == "reject":
            lines.append("reject " + quote(a["reason"]))
        elif k == "vacation":
            if not a.get("send"):
                continue
            subject = a.get("real_subject") or a.get("subject") or ""
            line = "vacation to=%s subject=%s days=%d" % (quote(a["to"]), quote(subject),
                                                           int(a.get("seconds", "604800")) // 86400)
            if "from" in a:
                line += " from=" + quote(a["from"])
            handle = a.get("handle", "")
            # Pigeonhole prints its own default handle (reason, subject,
            # from, then <MIME>/<NO-MIME>); only a :handle from the script
            # is part of the result.
            if handle and not handle.rstrip("\n").endswith(("<NO-MIME>", "<MIME>")):
                line += " handle=" + quote(handle)
            if handle.rstrip("\n").endswith("<MIME>"):
                line += " mime"
            lines.append(line)
        elif k == "notify":
            if not a.get("send"):
                continue
            line = "notify method=%s priority=%s" % (
                quote(a["scheme"] + ":" + ",".join(a["recipients"])), a.get("importance", "2"))
            if "subject" in a:
                line += " message=" + quote(a["subject"])
            lines.append(line)
    # discard only cancels the implicit keep (RFC 5228 4.5): next to an
    # action that delivers, it is not an action of its own.
    if any(l.split(" ")[0] in ("keep", "fileinto", "redirect", "reject") for l in lines):
        lines = [l for l in lines if l != "discard"]
    return sorted(set(lines))


# ---------------------------------------------------------------- mailsift

# What each engine's private configuration holds besides sieve_engine:
# for the mailsift engine, the include directories and the spamtest and
# virustest headers of the Pigeonhole configuration above. These key
# names are the harness's proposal; the engine must accept them (or this
# table follows the engine's names).
ENGINE_SETTINGS = {
    "mailsift": ("sieve_dir = {include}\n"
                 "sieve_global_dir = {include}/global\n"
                 "spamtest_header = X-Spam-Score\n"
                 "spamtest_max = 10\n"
                 "virustest_header = X-Virus-Score\n"
                 "virustest_max = 5\n"),
    "libsieve": "",
}


class Mailsift:
    def __init__(self, exe, top):
        self.exe = exe
        self.home = os.path.join(top, "mailsift-home")
        os.mkdir(self.home)
        self.env = dict(os.environ)
        # no ~/.config/mailsift/config of whoever runs the tests
        h = self.home
        self.env.update(HOME=h, TZ="UTC", XDG_CONFIG_HOME=os.path.join(h, "config"),
                        XDG_DATA_HOME=os.path.join(h, "data"), XDG_STATE_HOME=os.path.join(h, "state"),
                        XDG_CACHE_HOME=os.path.join(h, "cache"))
        self.wrapper = shlex.split(os.environ.get("MAILSIFT_WRAPPER", ""))
        self.configs = {}
        for engine in ENGINES:
            text = "[general]\nsieve_engine = %s\n" % engine + ENGINE_SETTINGS[engine].format(include=INCLUDE)
            self.configs[engine] = self._write_config(engine, text)

    def _write_config(self, name, text):
        path = os.path.join(self.home, name + ".conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def run(self, engine, case):
        args = self.wrapper + [self.exe, "test", "-c", self.configs[engine],
                               case.script_path, case.message_path,
                               "--envelope-from", case.env_from, "--envelope-to", case.env_to,
                               "--address", case.env_to]
        try:
            p = subprocess.run(args, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, [], "timed out after %d s" % TIMEOUT
        out = p.stdout.decode("utf-8", "surrogateescape")
        err = p.stderr.decode("utf-8", "surrogateescape")
        # header changes (editheader) are lines of their own; sieve-test
        # lists only actions, so only the actions are compared
        lines = [l.rstrip() for l in out.splitlines()
                 if l.strip() and not l.startswith(("addheader ", "deleteheader "))]
        return p.returncode, lines, err


# ---------------------------------------------------------------- main

def find_sieve_test():
    exe = os.environ.get("SIEVE_TEST") or shutil.which("sieve-test") or "/usr/bin/sieve-test"
    if not os.path.isabs(exe):
        exe = shutil.which(exe) or exe
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


def markdown_list(cases):
    """Per engine, one row per cause with the cases it explains."""
    for engine in ENGINES:
        causes = {}
        for c in cases:
            if c.cause[engine]:
                causes.setdefault(c.cause[engine], []).append(c.name)
        print("Engine `%s`: %d of %d cases differ from Pigeonhole%s"
              % (engine, sum(len(v) for v in causes.values()), len(cases), ":" if causes else "."))
        if causes:
            print()
            print("| Why it differs from Pigeonhole | Cases |")
            print("|---|---|")
            for cause, names in causes.items():
                print("| %s | %s |" % (cause.replace("|", "\\|"), ", ".join("`%s`" % n for n in names)))
        print()


def diag(lines):
    out = []
    for l in lines:
        for part in str(l).splitlines() or [""]:
            out.append("#   " + part)
    return out


def check_engine(case, engine, want, notes, result, pin):
    """TAP line and diagnostics for one engine on one case."""
    rc, got, err = result
    cause = case.cause[engine]
    title = "%s [%s]" % (case.name, engine)
    same = rc == 0 and set(got) == set(want)
    pinned = read_pinned(case, engine) if cause else None
    problem = None
    if rc != 0:
        problem = "mailsift test exited with %s (expected 0)" % rc
    elif cause is None:
        if not same:
            problem = "differs from Pigeonhole"
    elif same:
        problem = "known difference no longer differs: make the %s column `same` and delete %s" % (
            engine, os.path.relpath(case.pinned_path(engine), TOP))
    elif pin:
        if got != pinned:
            os.makedirs(PINNED, exist_ok=True)
            with open(case.pinned_path(engine), "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("".join(l + "\n" for l in got))
            return ["ok - %s # pinned: %s" % (title, "; ".join(got) or "(nothing)")]
    elif pinned is None:
        problem = "no pinned output %s: check what mailsift prints, then run --pin" % (
            os.path.relpath(case.pinned_path(engine), TOP))
    elif got != pinned:
        problem = "output differs from the pinned %s" % os.path.relpath(case.pinned_path(engine), TOP)
    if problem is None:
        lines = ["ok - " + title]
        if cause:
            lines.append("# known difference: " + cause)
        elif len(got) != len(set(got)):
            lines.append("# note: mailsift printed a line twice")
        return lines
    lines = ["not ok - %s: %s" % (title, problem),
             "# %s + %s, envelope from <%s> to <%s>" % (os.path.basename(case.script_path),
                                                      case.message, case.env_from, case.env_to),
             "# pigeonhole:"] + diag(want or ["(nothing)"])
    if pinned is not None:
        lines += ["# pinned:"] + diag(pinned or ["(nothing)"])
    lines += ["# mailsift (%s):" % engine] + diag(got or ["(nothing)"])
    lines += diag(notes)
    if err.strip():
        lines += ["# mailsift stderr:"] + diag(err.strip().splitlines()[:10])
    return lines


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = [a for a in argv if a.startswith("--")]
    for o in opts:
        if o not in ("--list", "--pigeonhole", "--pin", "--help"):
            print("usage: diff-pigeonhole.py [--list | --pigeonhole | --pin] [CASE-SUBSTRING...]",
                  file=sys.stderr)
            return 64
    if "--help" in opts:
        print(__doc__)
        return 0
    try:
        cases = load_cases()
    except (OSError, ValueError) as e:
        print("Bail out! %s" % e)
        return 1
    if "--list" in opts:
        markdown_list(cases)
        return 0
    pin = "--pin" in opts
    stale = stale_pins(cases)
    if stale and pin:
        for p in stale:
            os.unlink(p)
            print("# removed %s (no `differs` row)" % os.path.relpath(p, TOP))
    elif stale:
        print("Bail out! pinned files without a `differs` row (delete them, or run --pin): "
              + ", ".join(os.path.relpath(p, TOP) for p in stale))
        return 1
    if args:
        cases = [c for c in cases if any(a in c.name for a in args)]
    engines = os.environ.get("DIFF_ENGINES", " ".join(ENGINES)).split()
    for e in engines:
        if e not in ENGINES:
            print("Bail out! DIFF_ENGINES: unknown engine %r (known: %s)" % (e, " ".join(ENGINES)))
            return 1

    sieve_test = find_sieve_test()
    if sieve_test is None:
        print("1..0 # SKIP sieve-test not installed")
        return 0
    only_pigeonhole = "--pigeonhole" in opts
    mailsift_exe = os.environ.get("MAILSIFT") or os.path.join(TOP, "mailsift")
    if not only_pigeonhole and not (os.path.isfile(mailsift_exe) and os.access(mailsift_exe, os.X_OK)):
        print("Bail out! MAILSIFT=%s does not exist or is not executable" % mailsift_exe)
        return 1

    top = tempfile.mkdtemp(prefix="mailsift-diff-")
    os.chmod(top, 0o755)
    failed = 0
    try:
        ph = Pigeonhole(sieve_test, os.path.join(top, "pigeonhole"))
        if only_pigeonhole:
            engines = []
        else:
            ms = Mailsift(mailsift_exe, top)

        def one_case(case):
            try:
                want, notes = ph.run(case)
            except (HarnessError, subprocess.TimeoutExpired, OSError) as e:
                return [["not ok - %s%s: could not run sieve-test" % (case.name, " [%s]" % e_ if e_ else "")]
                        + diag([e]) for e_ in (engines or [None])]
            if only_pigeonhole:
                return [["ok - " + case.name] + diag(want) + diag(notes)]
            return [check_engine(case, e, want, notes, ms.run(e, case), pin) for e in engines]

        print("1..%d" % (len(cases) * max(1, len(engines))))
        jobs = int(os.environ.get("DIFF_JOBS") or os.cpu_count() or 2)
        n = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for tests in pool.map(one_case, cases):
                for lines in tests:
                    n += 1
                    ok, rest = lines[0].split(" - ", 1)
                    if ok == "not ok":
                        failed += 1
                    print("%s %d - %s" % (ok, n, rest))
                    for l in lines[1:]:
                        print(l)
                sys.stdout.flush()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
