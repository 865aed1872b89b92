#!/usr/bin/python3
"""Differential test: `mailsift test` (libsieve 2.2.6) against Pigeonhole.

Every (script, message) pair listed in tests/diff/cases.tsv is run through
both `$MAILSIFT test` and Pigeonhole's `sieve-test`. Pigeonhole's report is
rewritten into the action lines `mailsift test` prints (see mailsift(1)):

    keep [flags=\\Flagged,\\Seen]      fileinto "Folder" [flags=...]
    redirect "addr"                    discard
    reject "text"                      vacation to="a" subject="s" days=N [from="f"] [handle="h"]

and the two results are compared as sets (the addheader/deleteheader
lines mailsift prints for header changes are left out: sieve-test does
not list them; tests/cases/editheader-*.case check the delivered bytes). The "expect" column of
cases.tsv says `same`, or `differs: <cause>` for a difference we know
about; a known difference that goes away fails too, so the list stays
honest. Output is TAP.

    tests/diff-pigeonhole.py                 run every case
    tests/diff-pigeonhole.py 05 vacation     run the cases whose name contains 05 or vacation
    tests/diff-pigeonhole.py --pigeonhole    print Pigeonhole's normalised result per case
    tests/diff-pigeonhole.py --list          Markdown table of the known differences

Environment: MAILSIFT (default: ../mailsift next to this file),
MAILSIFT_WRAPPER (e.g. valgrind ...; put in front of every mailsift run),
SIEVE_TEST (default: sieve-test from PATH, then /usr/bin/sieve-test).

sieve-test runs with a private configuration written to a temporary
directory (never /etc/dovecot). When this runs as root, Dovecot refuses to
touch mail as root, so the configuration sets mail_uid/mail_gid to the
unprivileged user "nobody" and the temporary directory is handed to it.
"""

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
TIMEOUT = 60

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
        if expect == "same":
            self.cause = None
        elif expect.startswith("differs:") and expect[len("differs:"):].strip():
            self.cause = expect[len("differs:"):].strip()
        else:
            raise ValueError("cases.tsv line %d: expect must be 'same' or 'differs: <cause>'"
                             % lineno)
        self.script_path = os.path.join(DIFF, "cases", name + ".sieve")
        self.message_path = os.path.join(DIFF, "messages", message)


def load_cases():
    cases = []
    with open(CASES_TSV, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if cols[0] == "case":
                continue  # column titles
            if len(cols) != 5:
                raise ValueError("cases.tsv line %d: expected 5 tab-separated columns, got %d"
                                 % (lineno, len(cols)))
            name, message, env_from, env_to, expect = (c.strip() for c in cols)
            if env_from == "<>":
                env_from = ""
            case = Case(name, message, env_from, env_to, expect, lineno)
            for path in (case.script_path, case.message_path):
                if not os.path.isfile(path):
                    raise ValueError("cases.tsv line %d: %s does not exist" % (lineno, path))
            cases.append(case)
    names = [c.name for c in cases]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError("cases.tsv: duplicate case names: " + ", ".join(dups))
    return cases


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
  # editheader is not on by default
  sieve_extensions = +editheader
  # Pinned to the Pigeonhole 0.5.19 defaults so that a different
  # packaging default cannot change the results.
  sieve_vacation_min_period = 1d
  sieve_vacation_default_period = 7d
  sieve_vacation_max_period = 60d
  sieve_vacation_dont_check_recipient = no
  sieve_vacation_use_original_recipient = no
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
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "LANG": "C.UTF-8"}
        p = subprocess.run(args, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        return (p.returncode, p.stdout.decode("utf-8", "surrogateescape"),
                p.stderr.decode("utf-8", "surrogateescape"))

    def run(self, case):
        """Returns (sorted list of normalised action lines, notes)."""
        workdir = os.path.join(self.top, case.name)
        os.mkdir(workdir)
        os.mkdir(os.path.join(workdir, "Maildir"))
        # copies: sieve-test writes a compiled .svbin next to the script
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

        if any(a["kind"] in ("vacation", "reject") for a in actions):
            # Plain sieve-test lists a vacation even when delivery would not
            # send it, and shortens reject reasons (str_sanitize). So run
            # again with -e (really execute, into a private Maildir; its
            # outgoing mail is printed, not sent) and take Pigeonhole's own
            # vacation decision and the exact reject text from that run.
            _, xout, xerr = self._run(case, workdir, ["-e", "-l", "maildir:" + os.path.join(workdir, "Maildir")])
            for a in actions:
                if a["kind"] == "vacation":
                    settle_vacation(a, xout, xerr, notes)
                elif a["kind"] == "reject":
                    a["reason"] = exact_reject_reason(xout, a["reason"])
        return normalise(actions), notes


def parse_result(out):
    """sieve-test's "Performed actions" and "Implicit keep" lists."""
    actions = []
    current = None
    in_message = False
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
        if line in ("Performed actions:", "Implicit keep:", "") or line.strip() == "(none)":
            continue
        if line == "START MESSAGE":
            in_message = True
            continue
        m = re.match(r"^ \* (.*)$", line)
        if m and m.group(1).startswith("track "):
            # "track duplicate": Pigeonhole records a duplicate test's ID
            # as an action; mailsift records it with the delivery and
            # prints no line for it
            current = None
            continue
        if m:
            current = parse_action(m.group(1))
            actions.append(current)
            continue
        m = re.match(r"^\s+\+ add IMAP flags:(.*)$", line)
        if m and current is not None and current["kind"] in ("keep", "fileinto"):
            current["flags"] += m.group(1).split()
            continue
        m = re.match(r"^\s+=> (\w+)\s*: ?(.*)$", line)
        if m and current is not None and current["kind"] == "vacation":
            current[m.group(1)] = m.group(2)
            if m.group(1) == "handle":
                last_attr = "handle"
            continue
        raise HarnessError("unexpected line in sieve-test output: %r\n%s" % (line, out))
    return actions


def parse_action(text):
    m = re.match(r"^store message in folder: (.*)$", text)
    if m:
        folder = m.group(1)
        if folder.upper() == "INBOX":
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
            lines.append(line)
    # discard only cancels the implicit keep (RFC 5228 4.5): next to an
    # action that delivers, it is not an action of its own.
    if any(l.split(" ")[0] in ("keep", "fileinto", "redirect", "reject") for l in lines):
        lines = [l for l in lines if l != "discard"]
    return sorted(set(lines))


# ---------------------------------------------------------------- mailsift

def run_mailsift(exe, case, home):
    wrapper = shlex.split(os.environ.get("MAILSIFT_WRAPPER", ""))
    args = wrapper + [exe, "test", case.script_path, case.message_path,
                      "--envelope-from", case.env_from, "--envelope-to", case.env_to,
                      "--address", case.env_to]
    env = dict(os.environ)
    # no ~/.config/mailsift/config of whoever runs the tests
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
               XDG_DATA_HOME=os.path.join(home, "data"), XDG_STATE_HOME=os.path.join(home, "state"),
               XDG_CACHE_HOME=os.path.join(home, "cache"))
    p = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    out = p.stdout.decode("utf-8", "surrogateescape")
    err = p.stderr.decode("utf-8", "surrogateescape")
    # header changes (editheader) are lines of their own; sieve-test lists
    # only actions, so only the actions are compared
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
    print("| Case | Message | Why mailsift and Pigeonhole differ |")
    print("|---|---|---|")
    for c in cases:
        if c.cause:
            print("| `%s` | `%s` | %s |" % (c.name, c.message, c.cause.replace("|", "\\|")))


def diag(lines):
    for l in lines:
        for part in str(l).splitlines() or [""]:
            print("#   " + part)


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = [a for a in argv if a.startswith("--")]
    for o in opts:
        if o not in ("--list", "--pigeonhole", "--help"):
            print("usage: diff-pigeonhole.py [--list | --pigeonhole] [CASE-SUBSTRING...]", file=sys.stderr)
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
    if args:
        cases = [c for c in cases if any(a in c.name for a in args)]

    sieve_test = find_sieve_test()
    if sieve_test is None:
        print("1..0 # SKIP sieve-test not installed")
        return 0
    only_pigeonhole = "--pigeonhole" in opts
    mailsift = os.environ.get("MAILSIFT") or os.path.join(TOP, "mailsift")
    if not only_pigeonhole and not (os.path.isfile(mailsift) and os.access(mailsift, os.X_OK)):
        print("Bail out! MAILSIFT=%s does not exist or is not executable" % mailsift)
        return 1

    top = tempfile.mkdtemp(prefix="mailsift-diff-")
    os.chmod(top, 0o755)
    failed = 0
    try:
        ph = Pigeonhole(sieve_test, os.path.join(top, "pigeonhole"))
        home = os.path.join(top, "mailsift-home")
        os.mkdir(home)
        print("1..%d" % len(cases))
        for n, case in enumerate(cases, 1):
            try:
                want, notes = ph.run(case)
            except (HarnessError, subprocess.TimeoutExpired) as e:
                print("not ok %d - %s" % (n, case.name))
                print("# could not run sieve-test:")
                diag([e])
                failed += 1
                continue
            if only_pigeonhole:
                print("ok %d - %s" % (n, case.name))
                diag(want)
                diag(notes)
                continue
            try:
                rc, got, err = run_mailsift(mailsift, case, home)
            except subprocess.TimeoutExpired:
                rc, got, err = None, [], "timed out after %d s" % TIMEOUT
            same = rc == 0 and set(got) == set(want)
            if rc == 0 and case.cause is not None and not same:
                print("ok %d - %s" % (n, case.name))
                print("# known difference: " + case.cause)
                continue
            if same and case.cause is None:
                print("ok %d - %s" % (n, case.name))
                if len(got) != len(set(got)):
                    print("# note: mailsift printed a line twice")
                continue
            failed += 1
            if same:
                print("not ok %d - %s: known difference no longer differs: update cases.tsv"
                      % (n, case.name))
            else:
                print("not ok %d - %s" % (n, case.name))
            if rc != 0:
                print("# mailsift test exited with %s (expected 0)" % rc)
            print("# %s + %s, envelope from <%s> to <%s>" % (os.path.basename(case.script_path),
                                                             case.message, case.env_from, case.env_to))
            print("# pigeonhole:")
            diag(want or ["(nothing)"])
            print("# mailsift:")
            diag(got or ["(nothing)"])
            if notes:
                diag(notes)
            if err.strip():
                print("# mailsift stderr:")
                diag(err.strip().splitlines()[:10])
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
