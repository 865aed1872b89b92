#!/usr/bin/python3
"""A 200 MB message through `mailsift deliver`: delivered byte-exact, with
the process's peak RSS bounded (streamed, never held in memory), and a
CRLF message converted to LF exactly. Prints TAP."""
import hashlib
import os
import subprocess
import sys
import tempfile

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")
SIZE_MB = int(os.environ.get("BIG_MESSAGE_MB", "200"))
RSS_LIMIT_KB = 48 * 1024


def generate(total, crlf):
    eol = b"\r\n" if crlf else b"\n"
    yield b"From: big@example.org" + eol + b"To: me@example.org" + eol + b"Subject: a big one" + eol + eol
    line = 0
    sent = 0
    block = []
    while sent < total:
        text = (b"%010d " % line) + b"abcdefghijklmnopqrstuvwxyz0123456789" * 2 + eol
        block.append(text)
        sent += len(text)
        line += 1
        if len(block) == 4096:
            yield b"".join(block)
            block = []
    if block:
        yield b"".join(block)


def deliver(tmp, total, crlf):
    maildir = os.path.join(tmp, "Maildir")
    cfg = os.path.join(tmp, "config")
    script = os.path.join(tmp, "s.sieve")
    with open(script, "w") as f:
        f.write('require "fileinto";\nif size :over 100M { fileinto "Huge"; }\n')
    with open(cfg, "w") as f:
        f.write(f"[general]\nmaildir = {maildir}\nstate_dir = {tmp}/state\nscript = {script}\n")
    os.chmod(cfg, 0o600)
    p = subprocess.Popen([MAILSIFT, "deliver", "-c", cfg], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    h = hashlib.sha256()
    n = 0
    for chunk in generate(total, crlf):
        p.stdin.write(chunk)
        lf = chunk.replace(b"\r\n", b"\n")
        h.update(lf)
        n += len(lf)
    p.stdin.close()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    return os.waitstatus_to_exitcode(status), ru.ru_maxrss, h.hexdigest(), n, maildir, err


def delivered(maildir):
    out = []
    for d, _, files in os.walk(maildir):
        if os.path.basename(d) in ("new", "cur"):
            out += [os.path.join(d, f) for f in files]
    return out


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    print("1..2")
    for i, (label, total, crlf) in enumerate([(f"{SIZE_MB} MB LF message", SIZE_MB << 20, False),
                                              ("20 MB CRLF message", 20 << 20, True)], 1):
        with tempfile.TemporaryDirectory(prefix="mailsift-big-") as tmp:
            code, rss, digest, n, maildir, err = deliver(tmp, total, crlf)
            files = delivered(maildir)
            problems = []
            if code != 0:
                problems.append(f"exit {code}: {err.decode(errors='replace')}")
            if len(files) != 1:
                problems.append(f"expected one delivered file, found {files}")
            elif total > 100 << 20 and "/.Huge/new/" not in files[0]:
                problems.append(f"size :over 100M did not file into Huge: {files[0]}")
            elif os.path.getsize(files[0]) != n or sha_file(files[0]) != digest:
                problems.append("delivered bytes differ from what was sent")
            if rss > RSS_LIMIT_KB:
                problems.append(f"peak RSS {rss} KiB over {RSS_LIMIT_KB} KiB")
            print(f"{'not ok' if problems else 'ok'} {i} - {label}: {n} bytes, peak RSS {rss} KiB")
            for p in problems:
                print(f"# {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
