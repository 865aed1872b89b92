#!/usr/bin/python3
"""Outbound queue benchmark: N messages (default 1,000), each redirected
by the Sieve script `redirect "archive@example.net";`, sent by mailsift
to a local SMTP sink, against msmtp invoked once per message (what users
of .forward-style forwarding do today). Both send to the same sink on
127.0.0.1 (a minimal asyncio SMTP receiver in this process that answers
250 to everything and only counts), plaintext on loopback for both.

Two comparisons, each printed with what it times:

  (a) flush only: one `mailsift queue flush` of N redirects that are
      already in the queue (one process, one SMTP connection, one
      transaction per message), against msmtp once per message. The N
      `mailsift deliver` runs that filled the queue (with no smarthost
      configured, so that they only queue) are timed as well and shown
      below it, but they are not in (a)'s figure.
  (b) like for like: N `mailsift deliver` runs, one per message as an
      MTA runs it, with the smarthost configured: each one queues its
      redirect and sends it before it exits (agent/cmd-deliver.c flushes
      the queue after a delivery that queued something), against msmtp
      once per message.

The msmtp runs and both kinds of `mailsift deliver` runs take turns
message by message (a noisy moment on a shared machine hits all of
them), and msmtp's figures are the same in (a) and (b). For each row:
seconds (wall clock, the sum over the runs), msgs/s (messages the sink
accepted from it, over those seconds), CPU ms/msg (user + sys of every
process of the runs, also their children: this process is a child
subreaper and reaps them; bench/measure.py), and peak RSS (the largest
VmHWM of one process, sampled from /proc: for the flush during the timed
run, for the runs once per message on 5 extra untimed runs).

What the runs once per message wait for: mailsift deliver makes its queue
entry durable (fsync) before it sends, so (b) depends on how fast the disk
syncs; msmtp writes the message line by line without TCP_NODELAY, so its
final dot waits for the sink's delayed ACK (about 40 ms on Linux loopback,
whatever the server), which is most of an msmtp run here: compare CPU
ms/msg with seconds.

    MAILSIFT=./mailsift bench/queue-bench.py [--messages N]

QUEUE_BENCH_MESSAGES in the environment sets the default of --messages.
Run by `make bench`; not part of `make check`.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)
import servers  # noqa: E402
import measure  # noqa: E402

MAILSIFT = os.path.abspath(os.environ.get("MAILSIFT", "./mailsift"))
SAMPLE_RUNS = 5


def message(i):
    body = "".join(f"line {j} of message {i} " + "x" * 50 + "\n" for j in range(120))
    return (f"From: sender{i % 13}@example.org\nTo: me@example.org\nSubject: bench {i}\n"
            f"Message-ID: <qb{i}@example.org>\n\n{body}").encode()


class FastSink:
    """A minimal SMTP receiver (asyncio, in a thread) that answers 250 to
    everything and only counts messages: the aiosmtpd sink of the tests
    writes every message to disk and would be the bottleneck here. A
    message is counted before its 250 goes out, so when a client has
    exited, what it sent is counted."""

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


class Loop:
    """One kind of run once per message: the sum of the wall-clock seconds
    of the runs, the CPU time of every process they started (reaped, also
    orphans, before the CPU time is read), messages the sink counted during
    them, failed runs."""

    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.seconds = self.cpu = 0.0
        self.sent = self.failed = self.killed = 0
        self.errors = []

    def run(self, msg, sink):
        before_n = sink.count
        u0, s0 = measure.cpu_children()
        t0 = time.monotonic()
        p = subprocess.run(self.argv, input=msg, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.seconds += time.monotonic() - t0
        self.killed += measure.reap_all()
        u1, s1 = measure.cpu_children()
        self.cpu += (u1 - u0) + (s1 - s0)
        self.sent += sink.count - before_n
        if p.returncode != 0:
            self.failed += 1
            if len(self.errors) < 3:
                self.errors.append(f"exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[-300:]}")

    def peak(self, msg, tmp):
        """Largest VmHWM of one process over SAMPLE_RUNS untimed runs."""
        path = os.path.join(tmp, "sample.eml")
        with open(path, "wb") as f:
            f.write(msg)
        hwm = 0
        for _ in range(SAMPLE_RUNS):
            with open(path, "rb") as f:
                r = measure.run_tool(self.argv, stdin=f, timeout=60)
            hwm = max(hwm, r["peak_kib"])
        return hwm


def queue_left(cfg):
    p = subprocess.run([MAILSIFT, "queue", "-c", cfg], capture_output=True, text=True)
    if p.returncode != 0:
        return f"? (mailsift queue: exit {p.returncode})"
    if "the queue is empty" in p.stdout:
        return 0
    return sum(1 for line in p.stdout.splitlines()[1:] if line and not line.startswith(" "))


def row(name, secs, sent, cpu, peak_kib, n):
    rate = sent / secs if secs else 0.0
    peak = f"{peak_kib / 1024:.1f} MiB" if peak_kib else "-"
    return f"  {name:52} {secs:8.2f} {rate:8.1f} {cpu * 1000 / n:10.2f} {peak:>9} {sent:5d}", rate


HEAD = f"  {'':52} {'seconds':>8} {'msgs/s':>8} {'CPU ms/msg':>10} {'peak RSS':>9} {'sent':>5}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=int(os.environ.get("QUEUE_BENCH_MESSAGES", "1000")))
    a = ap.parse_args()
    n = a.messages
    if not os.access(MAILSIFT, os.X_OK):
        print(f"queue-bench: no mailsift binary at {MAILSIFT} (build it, or set MAILSIFT)", file=sys.stderr)
        return 1
    if not measure.subreaper():
        print("queue-bench: prctl(PR_SET_CHILD_SUBREAPER) failed: the CPU time of orphans would be missed",
              file=sys.stderr)
        return 1
    msgs = [message(i) for i in range(n)]
    sink = FastSink()
    msmtp = shutil.which("msmtp")
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ms-qbench-") as tmp:
        script = os.path.join(tmp, "s.sieve")
        with open(script, "w") as f:
            f.write('redirect "archive@example.net";\n')

        def config(name, smarthost):
            d = os.path.join(tmp, name)
            os.makedirs(d, exist_ok=True)
            cfg = os.path.join(d, "config")
            with open(cfg, "w") as f:
                f.write(f"[general]\nmaildir = {d}/Maildir\nstate_dir = {d}/state\nscript = {script}\n"
                        "addresses = me@example.org\n")
                if smarthost:
                    f.write(f"[smtp sink]\nhost = 127.0.0.1\nport = {sink.port}\ntls = none\n")
            os.chmod(cfg, 0o600)
            return cfg

        # (a): deliver only queues (no smarthost yet); (b): deliver sends
        cfg_a, cfg_b = config("flush", False), config("deliver", True)
        fill = Loop("mailsift deliver, no smarthost (queues only)",
                    [MAILSIFT, "deliver", "-c", cfg_a, "-f", "a@example.org"])
        send = Loop("mailsift deliver, one run per message",
                    [MAILSIFT, "deliver", "-c", cfg_b, "-f", "a@example.org"])
        loops, peer = [send, fill], None
        if msmtp:
            peer = Loop("msmtp, one run per message",
                        [msmtp, "--host=127.0.0.1", f"--port={sink.port}", "--tls=off", "--auth=off",
                         "--from=me@example.org", "archive@example.net"])
            loops.append(peer)
        for i, m in enumerate(msgs):
            for lp in (loops if i % 2 == 0 else loops[::-1]):
                lp.run(m, sink)
        left_b = queue_left(cfg_b)
        queued_a = queue_left(cfg_a)

        # (a): the flush of what the first kind of deliver runs queued, now
        # with the smarthost in the configuration
        config("flush", True)
        before = sink.count
        flush = measure.run_tool([MAILSIFT, "queue", "flush", "-c", cfg_a], timeout=600)
        sink.wait_for(before + n, timeout=5)  # counted before the 250: nothing should be missing
        flushed = sink.count - before
        left_a = queue_left(cfg_a)

        # peak RSS of the runs once per message, untimed, after the timed
        # part (these send too; the sink counts are taken already)
        peaks = {lp.name: lp.peak(msgs[0], tmp) for lp in (send, peer) if lp is not None}

    print(f"# {n} messages of {len(msgs[0])} bytes, each redirected once; SMTP sink on 127.0.0.1 (counts, "
          f"answers 250), plaintext; nproc {os.cpu_count()}, load {load0:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end")
    print("# seconds = wall clock (for one run per message: the sum over the runs); msgs/s = messages the sink")
    print("# accepted / seconds; CPU ms/msg = user + sys of every process of the runs (children too) / messages;")
    print(f"# peak RSS = largest VmHWM of one process (runs once per message: sampled on {SAMPLE_RUNS} extra "
          "untimed runs).")
    print("# The msmtp runs and both kinds of mailsift deliver runs took turns, message by message.")
    problems = []
    msmtp_line = None
    if msmtp:
        msmtp_line, msmtp_rate = row(f"msmtp, once per message ({n} processes)", peer.seconds, peer.sent,
                                     peer.cpu, peaks[peer.name], n)
        if peer.failed or peer.sent != n:
            problems.append(f"msmtp: {peer.failed} runs failed, {peer.sent} of {n} sent: {peer.errors}")

    print()
    print(f"(a) flush only: ONE `mailsift queue flush` of {n} redirects already in the queue, against msmtp")
    print(f"    once per message. The {n} `mailsift deliver` runs that queued them are NOT in this figure.")
    print(HEAD)
    line, flush_rate = row("mailsift queue flush (1 process, 1 connection)", flush["seconds"], flushed,
                           flush["cpu"], flush["peak_kib"], n)
    print(line)
    print(msmtp_line or "  msmtp (not installed: apt-get install msmtp)")
    if msmtp and msmtp_rate:
        print(f"  flush only, mailsift/msmtp (msgs/s): {flush_rate / msmtp_rate:.1f}x")
    print(f"  not in (a): queuing them took {n} `mailsift deliver` runs with no smarthost, {fill.seconds:.2f} s "
          f"({n / fill.seconds:.1f} msgs/s, CPU {fill.cpu * 1000 / n:.2f} ms/msg); {queued_a} queued")
    if flush["code"] != 0 or flushed != n or left_a != 0 or fill.failed:
        problems.append(f"(a): flush exit {flush['code']}, {flushed} of {n} sent, {left_a} left in the queue, "
                        f"{fill.failed} deliver runs failed {fill.errors}; flush said: {flush['out'][-500:]}")

    print()
    print(f"(b) like for like: {n} `mailsift deliver` runs, one per message, each queuing its redirect and")
    print("    sending it before it exits, against msmtp once per message.")
    print(HEAD)
    line, send_rate = row(f"mailsift deliver, sends as it goes ({n} processes)", send.seconds, send.sent,
                          send.cpu, peaks[send.name], n)
    print(line)
    print(msmtp_line or "  msmtp (not installed: apt-get install msmtp)")
    if msmtp and msmtp_rate:
        print(f"  like for like, mailsift/msmtp (msgs/s): {send_rate / msmtp_rate:.2f}x")
    if send.failed or send.sent != n or left_b != 0:
        problems.append(f"(b): {send.failed} deliver runs failed, {send.sent} of {n} sent during them, "
                        f"{left_b} left in the queue: {send.errors}")
    killed = sum(lp.killed for lp in loops) + flush["killed"]
    if killed:
        print(f"  ({killed} process(es) were still running after their run exited; killed, CPU time counted)")
    for p in problems:
        print("FAILED " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
