#!/usr/bin/python3
"""Outbound queue throughput: 1,000 queued redirects flushed by
`mailsift queue flush` (one SMTP connection, one transaction per message)
against msmtp invoked once per message (what users of .forward-style
forwarding do today), both to the same local SMTP sink (python3-aiosmtpd)
on 127.0.0.1, plaintext on loopback for both. Prints msgs/s, peak RSS and
the ratio. Not part of make check: run `make bench`."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import servers  # noqa: E402
from fetchlib import run_measured  # noqa: E402

MAILSIFT = os.path.abspath(os.environ.get("MAILSIFT", "./mailsift"))
N = int(os.environ.get("QUEUE_BENCH_MESSAGES", "1000"))


def message(i):
    body = "".join(f"line {j} of message {i} " + "x" * 50 + "\n" for j in range(120))
    return (f"From: sender{i % 13}@example.org\nTo: me@example.org\nSubject: bench {i}\n"
            f"Message-ID: <qb{i}@example.org>\n\n{body}").encode()


class FastSink:
    """A minimal SMTP receiver (asyncio, in a thread) that answers 250 to
    everything and only counts messages: the aiosmtpd sink of the tests
    writes every message to disk and would be the bottleneck here."""

    def __init__(self):
        import asyncio
        import threading
        self.count = 0
        self.loop = asyncio.new_event_loop()
        self.port = servers.free_ports(1)[0]
        ready = threading.Event()

        async def handle(reader, writer):
            writer.write(b"220 sink ready\r\n")
            in_data = False
            while True:
                line = await reader.readline()
                if not line:
                    break
                if in_data:
                    if line in (b".\r\n", b".\n"):
                        in_data = False
                        self.count += 1
                        writer.write(b"250 2.0.0 queued\r\n")
                    continue
                cmd = line[:4].upper()
                if cmd == b"EHLO":
                    writer.write(b"250-sink\r\n250 PIPELINING\r\n")
                elif cmd == b"DATA":
                    in_data = True
                    writer.write(b"354 go ahead\r\n")
                elif cmd == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
            writer.close()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", self.port))
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)

    def wait_for(self, n, timeout=60):
        end = time.monotonic() + timeout
        while self.count < n and time.monotonic() < end:
            time.sleep(0.01)


def main():
    msgs = [message(i) for i in range(N)]
    rows = []
    sink = FastSink()
    with tempfile.TemporaryDirectory(prefix="ms-qbench-") as tmp:
        script = os.path.join(tmp, "s.sieve")
        with open(script, "w") as f:
            f.write('redirect "archive@example.net";\n')
        base = (f"[general]\nmaildir = {tmp}/Maildir\nstate_dir = {tmp}/state\nscript = {script}\n"
                "addresses = me@example.org\n")
        cfg = os.path.join(tmp, "config")
        with open(cfg, "w") as f:
            f.write(base)  # no smarthost yet: deliver only queues
        os.chmod(cfg, 0o600)
        t0 = time.monotonic()
        for m in msgs:
            subprocess.run([MAILSIFT, "deliver", "-c", cfg, "-f", "a@example.org"], input=m, check=True)
        queued_s = time.monotonic() - t0
        with open(cfg, "w") as f:
            f.write(base + f"[smtp sink]\nhost = 127.0.0.1\nport = {sink.port}\ntls = none\n")
        code, out, err, rss = (0, "", "", 0)
        t0 = time.monotonic()
        code, out, err, rss = run_measured([MAILSIFT, "queue", "flush", "-c", cfg])
        secs = time.monotonic() - t0
        sink.wait_for(N, timeout=60)
        got = sink.count
        rows.append(("mailsift queue flush", secs, rss, got, code))
        sink.count = 0

        msmtp = shutil.which("msmtp")
        if msmtp:
            hwm = 0
            t0 = time.monotonic()
            for m in msgs:
                p = subprocess.run([msmtp, "--host=127.0.0.1", f"--port={sink.port}", "--tls=off",
                                    "--auth=off", "--from=me@example.org", "archive@example.net"],
                                   input=m, capture_output=True)
                if p.returncode != 0:
                    print(p.stderr.decode(errors="replace"))
                    break
            secs = time.monotonic() - t0
            sink.wait_for(N, timeout=60)
            rows.append(("msmtp, once per message", secs, None, sink.count, 0))
        else:
            rows.append(("msmtp (not installed: apt-get install msmtp)", None, None, 0, None))

    print(f"# {N} messages of {len(msgs[0])} bytes; nproc {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; "
          f"queuing them with mailsift deliver took {queued_s:.1f} s (not counted)")
    print(f"{'tool':48} {'seconds':>8} {'msgs/s':>9} {'peak RSS':>10} {'delivered':>9}")
    for name, secs, rss, got, code in rows:
        if secs is None:
            print(f"{name:48} {'-':>8}")
            continue
        rss_s = f"{rss / 1024:.1f} MiB" if rss else "-"
        print(f"{name:48} {secs:8.2f} {got / secs:9.0f} {rss_s:>10} {got:9d}")
    if len(rows) == 2 and rows[1][1]:
        print(f"mailsift / msmtp throughput: {(rows[0][3] / rows[0][1]) / (rows[1][3] / rows[1][1]):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
