#!/usr/bin/python3
"""Table-driven end-to-end tests of `mailsift deliver` (and `check`).

Each tests/cases/*.case file is one case: a message, a script, a config
fragment, and the exact files expected in the Maildir afterwards (with
their flags), the exit status, what must be logged and what must be
queued. No network. Prints TAP.

Sections (a line "== NAME" starts one):
  args           extra arguments for `mailsift deliver`
  config         lines added under [general]
  script         the Sieve script (omitted: no script configured)
  message        the message, as text (LF line ends kept as written)
  message-py     a Python expression giving the message as bytes
  expect-exit    the exit status (default 0)
  expect-files   one line per delivered file: GLOB [= message|= empty|= content-NAME]
                 (paths relative to the Maildir; tmp/ must end up empty)
  content-NAME   the exact bytes a file given as "= content-NAME" must hold
                 (text, like message)
  expect-stderr  regular expressions that must each match stderr
  expect-queue   one line per queue entry: REASON RCPT[,RCPT...] [= content-NAME]
  command        run this instead of deliver (e.g. "check SCRIPT"); the
                 message is then its standard input, and MESSAGE in the
                 command names a file holding it
  expect-stdout  regular expressions that must each match stdout
  repeat         deliver the message this many times (the checks see the
                 last run's exit status and output)
  setup          shell commands run before the first run, in the case's
                 temporary folder, with MAILSIFT, CONFIG, SCRIPT, MESSAGE (a
                 file), MAILDIR and STATE in the environment
  between        shell commands run the same way before each later run
  preload        FILE.c [NAME=VALUE ...]: tests/FILE.c is compiled ($CC,
                 default cc) into a shared object that every mailsift of
                 the case runs with in LD_PRELOAD, with NAME=VALUE in its
                 environment (e.g. preload-nolink.c: no hard links)
  check          shell commands run the same way after the last run; they
                 must exit 0 (e.g. to show that files outside the Maildir
                 are untouched)
  expect-exit    with repeat, either the last run's status or one per run
"""
import fnmatch
import glob
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile

TOP = os.environ.get("TOP_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAILSIFT = os.environ.get("MAILSIFT", os.path.join(TOP, "mailsift"))
WRAPPER = shlex.split(os.environ.get("MAILSIFT_WRAPPER", ""))


def parse_case(path):
    sections, name = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^== ([a-z-]+)\s*$", line)
            if m:
                name = m.group(1)
                sections[name] = ""
            elif name:
                sections[name] += line
    return sections


def maildir_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for fn in filenames:
            if fn == "maildirfolder":
                continue
            out.append(os.path.normpath(os.path.join(rel, fn)))
    return sorted(out)


def differs(what, data, sections, name):
    """Problems when @data is not exactly the text of section @name."""
    if name not in sections:
        return [f"{what}: no section == {name}"]
    want = sections[name].encode("utf-8")
    if data == want:
        return []
    return [f"{what}: content differs from {name}:", "got:\n" + data.decode("utf-8", "replace"),
            "expected:\n" + sections[name]]


def run_case(path):
    s = parse_case(path)
    problems = []
    with tempfile.TemporaryDirectory(prefix="mailsift-e2e-") as tmp:
        maildir = os.path.join(tmp, "Maildir")
        state = os.path.join(tmp, "state")
        script = os.path.join(tmp, "script.sieve")
        cfg = os.path.join(tmp, "config")
        lines = ["[general]", f"maildir = {maildir}", f"state_dir = {state}"]
        if "script" in s:
            with open(script, "w", encoding="utf-8") as f:
                f.write(s["script"])
            lines.append(f"script = {script}")
        lines += [l for l in s.get("config", "").splitlines() if l.strip()]
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(cfg, 0o600)

        if "message-py" in s:
            message = eval(s["message-py"].strip())
        else:
            message = s.get("message", "").encode("utf-8")
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"),
                   XDG_STATE_HOME=os.path.join(tmp, ".state"))
        env.pop("SENDER", None)
        env.pop("RECIPIENT", None)
        if s.get("preload", "").strip():
            words = s["preload"].split()
            shim = os.path.join(tmp, "preload.so")
            cc = shlex.split(os.environ.get("CC") or "cc")
            subprocess.run(cc + ["-shared", "-fPIC", "-o", shim, os.path.join(TOP, "tests", words[0])],
                           check=True, capture_output=True, timeout=120)
            env["LD_PRELOAD"] = " ".join(filter(None, [shim, env.get("LD_PRELOAD")]))
            # an ASan build would refuse to start with the shim loaded first
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
            env.update(w.split("=", 1) for w in words[1:])
        if "command" in s:
            msgfile = os.path.join(tmp, "message.eml")
            with open(msgfile, "wb") as f:
                f.write(message)
            words = shlex.split(s["command"].strip().replace("SCRIPT", script).replace("CONFIG", cfg)
                                .replace("MESSAGE", msgfile))
            argv = WRAPPER + [MAILSIFT] + words
            stdin = message
        else:
            argv = WRAPPER + [MAILSIFT, "deliver", "-c", cfg] + shlex.split(s.get("args", ""))
            stdin = message
        msgfile = os.path.join(tmp, "message.eml")
        if not os.path.exists(msgfile):
            with open(msgfile, "wb") as f:
                f.write(message)
        shell_env = dict(env, MAILSIFT=" ".join(shlex.quote(w) for w in WRAPPER + [MAILSIFT]), CONFIG=cfg,
                         SCRIPT=script, MESSAGE=msgfile, MAILDIR=maildir, STATE=state)
        exits = []
        for n in range(int(s.get("repeat", "1").strip() or 1)):
            hook = s.get("setup" if n == 0 else "between", "")
            if hook.strip():
                h = subprocess.run(["sh", "-ec", hook], cwd=tmp, env=shell_env, capture_output=True, timeout=120)
                if h.returncode != 0:
                    problems.append(f"{'setup' if n == 0 else 'between'} failed: "
                                    + h.stderr.decode("utf-8", "replace"))
            p = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=120)
            exits.append(p.returncode)
        stderr = p.stderr.decode("utf-8", "replace")
        stdout = p.stdout.decode("utf-8", "replace")
        if s.get("check", "").strip():
            h = subprocess.run(["sh", "-ec", s["check"]], cwd=tmp, env=shell_env, capture_output=True,
                               timeout=120)
            if h.returncode != 0:
                problems.append("check failed: " + (h.stdout + h.stderr).decode("utf-8", "replace"))

        want_exits = [int(x) for x in s.get("expect-exit", "0").split()] or [0]
        if len(want_exits) == 1 and exits[-1] != want_exits[0]:
            problems.append(f"exit {exits[-1]}, expected {want_exits[0]}")
        elif len(want_exits) > 1 and exits != want_exits:
            problems.append(f"exits {exits}, expected {want_exits}")
        for rx in s.get("expect-stderr", "").splitlines():
            if rx.strip() and not re.search(rx.strip(), stderr):
                problems.append(f"stderr does not match /{rx.strip()}/")
        for rx in s.get("expect-stdout", "").splitlines():
            if rx.strip() and not re.search(rx.strip(), stdout):
                problems.append(f"stdout does not match /{rx.strip()}/")

        if "command" not in s:
            delivered_form = message.replace(b"\r\n", b"\n")
            files = maildir_files(maildir) if os.path.isdir(maildir) else []
            tmpfiles = [f for f in files if f.split(os.sep)[-2:-1] == ["tmp"]]
            if tmpfiles:
                problems.append(f"left in tmp/: {tmpfiles}")
            files = [f for f in files if f not in tmpfiles]
            expected = [l.strip() for l in s.get("expect-files", "").splitlines() if l.strip()]
            unmatched = list(files)
            for e in expected:
                pattern, _, content = (x.strip() for x in e.partition("="))
                hit = next((f for f in unmatched if fnmatch.fnmatchcase(f, pattern)), None)
                if hit is None:
                    problems.append(f"no file matches {pattern}")
                    continue
                unmatched.remove(hit)
                data = open(os.path.join(maildir, hit), "rb").read()
                if content == "message" and data != delivered_form:
                    problems.append(f"{hit}: content differs from the message ({len(data)} vs {len(delivered_form)} bytes)")
                if content == "empty" and data != b"":
                    problems.append(f"{hit}: not empty")
                if content.startswith("content-"):
                    problems += differs(hit, data, s, content)
            if unmatched:
                problems.append(f"unexpected files: {unmatched}")

            want_queue = [tuple(x.strip() for x in l.partition("=")[::2])
                          for l in s.get("expect-queue", "").splitlines() if l.strip()]
            got_queue = []
            db = os.path.join(state, "state.db")
            rows = []
            if os.path.exists(db):
                con = sqlite3.connect(db)
                try:
                    rows = con.execute("SELECT reason, recipients, file FROM queue").fetchall()
                except sqlite3.DatabaseError:
                    pass  # a case that breaks the store on purpose: nothing can be queued
                con.close()
            for reason, rcpts, qfile in rows:
                entry = f"{reason} {','.join(rcpts.split(chr(10)))}"
                got_queue.append(entry)
                content = next((c for e, c in want_queue if e == entry), "")
                if not os.path.exists(qfile):
                    problems.append(f"queue file {qfile} missing")
                elif content.startswith("content-"):
                    problems += differs(entry, open(qfile, "rb").read(), s, content)
            if sorted(got_queue) != sorted(e for e, _ in want_queue):
                problems.append(f"queue {sorted(got_queue)}, expected {sorted(e for e, _ in want_queue)}")
        if problems:
            problems.append("stderr was:\n" + stderr + ("stdout was:\n" + stdout if stdout else ""))
    return problems


def main():
    cases = sorted(glob.glob(os.path.join(TOP, "tests", "cases", "*.case")))
    if len(sys.argv) > 1:
        cases = [c for c in cases if any(a in c for a in sys.argv[1:])]
    print(f"1..{len(cases)}")
    failed = 0
    for i, c in enumerate(cases, 1):
        name = os.path.basename(c)[:-5]
        try:
            problems = run_case(c)
        except Exception as e:  # a crash of the harness is a failure, not a skip
            problems = [f"harness error: {e!r}"]
        if problems:
            failed += 1
            print(f"not ok {i} - {name}")
            for p in problems:
                for line in p.splitlines():
                    print(f"# {line}")
        else:
            print(f"ok {i} - {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
