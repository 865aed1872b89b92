#!/usr/bin/python3
"""A 100 MB message through body and MIME part tests (`mailsift test
--trace`): the filter process parses it from the file and decodes at most
1 MiB of each part, so its peak RSS stays under 16 MiB, and a text part
after the 100 MB attachment is still found. The filter process reports
its own peak (VmHWM) in the trace. Prints TAP."""
import base64
import os
import re
import subprocess
import sys
import tempfile
import time

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")
SIZE_MB = int(os.environ.get("BIG_MESSAGE_MB", "100"))
RSS_LIMIT_KB = 16 * 1024

SCRIPT = """require ["body", "fileinto", "foreverypart", "mime", "extracttext", "variables"];
if body :text :contains "NEEDLE AFTER THE ATTACHMENT" { fileinto "Text"; }
if body :content "application" :contains "0000000042" { fileinto "Content"; }
if body :raw :contains "this is the first part" { fileinto "Raw"; }
if body :text :contains "0000000042" { fileinto "NotText"; }
foreverypart {
  if header :mime :param "filename" "Content-Disposition" "big.dat" { fileinto "Attachment"; }
  extracttext :first 8 "t";
  if string "${t}" "NEEDLE A" { fileinto "Extracted"; }
}
"""


def write_message(path, total):
    head = (b"From: big@example.org\nTo: me@example.org\nSubject: a big one\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=BIG\n\n--BIG\nContent-Type: text/plain\n\n"
            b"this is the first part\n--BIG\nContent-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=big.dat\n\n")
    tail = b"\n--BIG\nContent-Type: text/plain; charset=utf-8\n\nNEEDLE AFTER THE ATTACHMENT\n--BIG--\n"
    with open(path, "wb") as f:
        f.write(head)
        written, line = len(head), 0
        raw = bytearray()
        while written < total:
            raw += b"%010d " % line + b"abcdefghijklmnopqrstuvwxyz0123456789" * 2 + b"\n"
            line += 1
            if len(raw) >= 3 * 65536:
                chunk = base64.encodebytes(bytes(raw))
                f.write(chunk)
                written += len(chunk)
                raw = bytearray()
        f.write(base64.encodebytes(bytes(raw)) + tail)
        return f.tell()


def main():
    print("1..2")
    with tempfile.TemporaryDirectory(prefix="mailsift-bigbody-") as tmp:
        msg = os.path.join(tmp, "big.eml")
        script = os.path.join(tmp, "body.sieve")
        cfg = os.path.join(tmp, "config")
        with open(script, "w") as f:
            f.write(SCRIPT)
        # the filter must finish in the default filter_timeout
        with open(cfg, "w") as f:
            f.write(f"[general]\nmaildir = {tmp}/Maildir\nstate_dir = {tmp}/state\n")
        os.chmod(cfg, 0o600)
        size = write_message(msg, SIZE_MB << 20)
        started = time.monotonic()
        p = subprocess.run([MAILSIFT, "test", "-c", cfg, "--trace", script, msg], capture_output=True,
                           timeout=300)
        took = time.monotonic() - started
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        got = sorted(l for l in out.splitlines() if l)
        want = sorted(['fileinto "Text"', 'fileinto "Content"', 'fileinto "Raw"', 'fileinto "Attachment"',
                       'fileinto "Extracted"'])
        problems = []
        if p.returncode != 0:
            problems.append(f"exit {p.returncode}")
        if got != want:
            problems.append(f"actions {got}, expected {want}")
        print(f"{'not ok' if problems else 'ok'} 1 - {size >> 20} MB message: body :text/:content/:raw, "
              f"foreverypart and extracttext see every part, in {took:.1f} s")
        for line in problems + (["stderr:"] + err.splitlines()[-15:] if problems else []):
            print(f"# {line}")
        m = re.search(r"filter process: peak RSS (\d+) KiB", err)
        rss = int(m.group(1)) if m else None
        ok = rss is not None and 0 < rss < RSS_LIMIT_KB
        print(f"{'ok' if ok else 'not ok'} 2 - filter process peak RSS {rss} KiB (< {RSS_LIMIT_KB} KiB)")
        if not ok:
            for line in err.splitlines()[-15:]:
                print(f"# {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
