#!/usr/bin/python3
"""Fetch benchmark: mailsift against fetchmail (+procmail), fdm, getmail6
and mbsync, over IMAP and POP3, into Maildir.

One private Dovecot on 127.0.0.1 (tests/servers.py) holds N messages
(default 2,000 of 10-20 KB from bench/genmail.py, the same bytes every
time). For each round, protocol and tool: the mailbox is emptied and
filled again with the same messages (files + doveadm force-resync), the
page cache is flushed to disk (sync), and the tool fetches everything
once into a fresh Maildir, with fresh state, while this script
(bench/measure.py)

  - times the wall clock from the tool's start to its exit,
  - adds up the CPU time (user + sys) of every process of the tool's
    tree: the tool runs under a reaper that is a child subreaper, so
    every descendant is reaped and counted, also one its parent never
    waited for (fetchmail's procmail per message, getmail's delivery
    children, mailsift's account and filter processes; not Dovecot's),
  - samples VmHWM of every process in the tool's process tree from
    /proc every few ms (getrusage's ru_maxrss would be useless: a child
    inherits the Python parent's high-water mark across fork and exec),
  - counts the delivered files (new/ and cur/ of every folder) and the
    distinct Message-IDs among them.

Rounds go round-robin: each round runs every tool once per protocol,
protocol by protocol, in --tools order (default mailsift, mbsync,
fetchmail, fdm, getmail6: the mailsift and mbsync IMAP runs are next to
each other), and every second round runs that order backwards, so that
no tool always goes first, and a noisy moment on a shared machine hits
one run of several tools rather than every run of one. The table gives
the median of the rounds (default 3); the mailsift/mbsync IMAP line gives
the median of the per-round ratios (mbsync's seconds over mailsift's in
the same round).

Every tool uses TLS with certificate checks against the throwaway CA
(details in the "TLS" column and the notes printed at the end). mailsift
runs bench/rules50.sieve (50 rules, 19 folders and INBOX); the peers
deliver everything into the one Maildir without filtering (which favours
them). By default mail is kept on the server (--mode keep): every tool
fetches every message, and nothing is deleted. --mode delete makes every
tool delete on the server after delivery (mbsync, a sync tool, is left
out).

A peer that is not installed gets a "not installed" row; install them
with `sudo bench/install-peers.sh`. Nothing connects anywhere but
127.0.0.1.

    MAILSIFT=./mailsift bench/run-bench.py [--messages N] [--rounds R]
        [--tools mailsift,mbsync,...] [--protocols imap,pop3]
        [--mode keep|delete] [--fsync-check] [--out DIR]

--fsync-check (`make bench` passes it; --no-fsync-check turns it off)
runs each tool once more, untimed, on 200 messages under strace -f -c
(up to 3 times while that run fails: getmail6 sometimes does under strace),
and adds a column of the calls that make data durable per message:
fsync, fdatasync and syncfs. It counts calls: a syncfs counts once,
though it writes out the whole filesystem (mailsift's fetch batches use
one per filesystem instead of an fsync per file). sync_file_range (which
starts writeback and waits for nothing durable) and msync are counted
apart and shown below the table, not in the column.
"""
import argparse
import json
import os
import platform
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("TOP_SRCDIR") or os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, HERE)
import servers  # noqa: E402
import genmail  # noqa: E402
import measure  # noqa: E402

SCRIPT = os.path.join(HERE, "rules50.sieve")
HOST = "127.0.0.1"
USER, PASSWORD = "test", "secret"
INSTALL_HINT = "not installed (sudo bench/install-peers.sh)"
# what the sync column counts: the calls that wait until data is on disk
SYNCS = ("fsync", "fdatasync", "syncfs")
# traced and shown apart: sync_file_range starts writeback (mailsift's
# spool) and makes nothing durable; msync may be MS_ASYNC, a no-op
NOT_SYNCS = ("sync_file_range", "msync")
MSGID = re.compile(rb"^Message-ID: <bench-(\d+)\.", re.M | re.I)


# ------------------------------------------------------------------ measuring

def run_tool(argv, env, cwd, timeout):
    """Run argv under bench/measure.py's reaper; return dict(code, seconds,
    cpu (user + sys seconds of every process of the run's tree), user, sys,
    killed, peak_kib, tree_kib, procs, out)."""
    return measure.run_tool(argv, env=env, cwd=cwd, timeout=timeout)


def delivered(maildir):
    """(files in new/ and cur/ of every folder, distinct bench Message-IDs)."""
    files, ids = 0, set()
    for d, _, names in os.walk(maildir):
        if os.path.basename(d) not in ("new", "cur"):
            continue
        for n in names:
            files += 1
            try:
                with open(os.path.join(d, n), "rb") as f:
                    head = f.read(16384)
            except OSError:
                continue
            m = MSGID.search(head)
            if m:
                ids.add(int(m.group(1)))
    return files, len(ids)


def make_maildir(path, owner=None):
    for sub in ("", "new", "cur", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
        if owner:
            os.chown(os.path.join(path, sub), owner.pw_uid, owner.pw_gid)


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


# ------------------------------------------------------------------ the tools

class Tool:
    name = "?"
    programs = ()
    protocols = ("imap", "pop3")
    modes = ("keep", "delete")
    ok_codes = (0,)

    def missing(self):
        return [p for p in self.programs if not servers.find_program(p)]

    def tls(self, proto):
        return ""

    def setup(self, d, proto, dc, mode):
        """Write the configuration into directory d; return (argv, env,
        maildir)."""
        raise NotImplementedError

    def env(self, d, **extra):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": d, "LANG": "C.UTF-8", "TZ": "UTC"}
        e.update(extra)
        return e


class Mailsift(Tool):
    name = "mailsift"

    def __init__(self, binary):
        self.binary = binary

    def missing(self):
        return [] if os.access(self.binary, os.X_OK) else [self.binary]

    def tls(self, proto):
        return "IMAPS, CA file" if proto == "imap" else "POP3S, CA file"

    def setup(self, d, proto, dc, mode):
        maildir = os.path.join(d, "Maildir")
        pw = os.path.join(d, "pw")
        write(pw, f"#!/bin/sh\necho {PASSWORD}\n", 0o700)
        write(os.path.join(d, "config"), "\n".join([
            "[general]", f"maildir = {maildir}", f"state_dir = {d}/state", f"script = {SCRIPT}",
            "addresses = me@example.org, me@work.example",
            "[account bench]", f"protocol = {proto}", f"host = {HOST}", f"port = {dc.ports[proto + 's']}",
            "tls = implicit", f"ca_file = {dc.ca_file}", f"user = {USER}", f"password_command = {pw}",
            f"after_delivery = {mode}", ""]))
        return [self.binary, "fetch", "-c", os.path.join(d, "config")], self.env(d), maildir


class Fetchmail(Tool):
    name = "fetchmail"
    programs = ("fetchmail", "procmail")
    ok_codes = (0,)

    def tls(self, proto):
        return "implicit TLS, CA file, name localhost"

    def setup(self, d, proto, dc, mode):
        maildir = os.path.join(d, "Maildir")
        make_maildir(maildir)
        rc = os.path.join(d, "procmailrc")
        # a folder ending in / is a Maildir for procmail
        write(rc, f"DEFAULT={maildir}/\nMAILDIR={d}\nLOGFILE=\n\n:0\n{maildir}/\n")
        write(os.path.join(d, "fetchmailrc"), "\n".join([
            "set no bouncemail", "set no syslog",
            f"poll {HOST} port {dc.ports[proto + 's']} protocol {proto.upper()}",
            f'  user "{USER}" password "{PASSWORD}"',
            # the certificate names localhost (and 127.0.0.1 as an IP SAN,
            # which fetchmail does not look at)
            f'  ssl sslcertck sslcommonname "localhost" sslcertfile "{dc.ca_file}"',
            "  fetchall" + (" keep" if mode == "keep" else ""),
            f'  mda "{servers.find_program("procmail")} -m {rc}"', ""]))
        argv = [servers.find_program("fetchmail"), "--silent", "-f", os.path.join(d, "fetchmailrc"),
                "--pidfile", os.path.join(d, "fetchmail.pid")]
        return argv, self.env(d, FETCHMAILHOME=d), maildir


class Fdm(Tool):
    name = "fdm"
    programs = ("fdm",)

    def tls(self, proto):
        return ("IMAPS" if proto == "imap" else "POP3S") + ", CA (SSL_CERT_FILE), no name check"

    def setup(self, d, proto, dc, mode):
        maildir = os.path.join(d, "Maildir")
        make_maildir(maildir)
        write(os.path.join(d, "fdm.conf"), "\n".join([
            f'set lock-file "{d}/fdm.lock"',
            "set verify-certificates",
            f'account "bench" {proto}s server "{HOST}" port {dc.ports[proto + "s"]} '
            f'user "{USER}" pass "{PASSWORD}"' + (" keep" if mode == "keep" else ""),
            f'action "md" maildir "{maildir}"',
            'match all action "md"', ""]))
        # fdm 1.9 checks the chain against OpenSSL's default paths, which
        # SSL_CERT_FILE replaces; it does not check the host name
        argv = [servers.find_program("fdm"), "-q", "-f", os.path.join(d, "fdm.conf"), "fetch"]
        return argv, self.env(d, SSL_CERT_FILE=dc.ca_file), maildir


class Getmail(Tool):
    name = "getmail6"
    programs = ("getmail",)

    def tls(self, proto):
        return ("IMAP" if proto == "imap" else "POP3") + "-SSL, CA file, name localhost"

    def setup(self, d, proto, dc, mode):
        maildir = os.path.join(d, "Maildir")
        # getmail refuses to deliver as root: as root, deliver as nobody
        owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
        make_maildir(maildir, owner)
        kind = "SimpleIMAPSSLRetriever" if proto == "imap" else "SimplePOP3SSLRetriever"
        lines = ["[retriever]", f"type = {kind}", f"server = {HOST}", f"port = {dc.ports[proto + 's']}",
                 f"username = {USER}", f"password = {PASSWORD}", f"ca_certs = {dc.ca_file}",
                 "ssl_cert_hostname = localhost"]
        if proto == "imap":
            lines.append('mailboxes = ("INBOX",)')
        lines += ["", "[destination]", "type = Maildir", f"path = {maildir}/"]
        if owner:
            lines.append("user = nobody")
        lines += ["", "[options]", "read_all = true", f"delete = {'true' if mode == 'delete' else 'false'}",
                  "verbose = 0", "message_log_syslog = false", ""]
        write(os.path.join(d, "getmailrc"), "\n".join(lines))
        os.makedirs(os.path.join(d, "getmail"), exist_ok=True)
        argv = [servers.find_program("getmail"), "--quiet", "--getmaildir", os.path.join(d, "getmail"),
                "--rcfile", os.path.join(d, "getmailrc")]
        return argv, self.env(d), maildir


class Mbsync(Tool):
    name = "mbsync"
    programs = ("mbsync",)
    protocols = ("imap",)
    modes = ("keep",)

    def tls(self, proto):
        return "IMAPS, server certificate pinned"

    def setup(self, d, proto, dc, mode):
        maildir = os.path.join(d, "Maildir")
        os.makedirs(os.path.join(d, "state"))
        os.makedirs(os.path.join(d, "folders"))
        # mbsync 1.4 matches only DNS names, not the IP SAN: trust the
        # server's own certificate (its CertificateFile takes a peer
        # certificate as a pin), so it can connect to 127.0.0.1 itself
        pin = os.path.join(d, "server.pem")
        shutil.copy(dc.certs.cert_file, pin)
        write(os.path.join(d, "mbsyncrc"), "\n".join([
            "IMAPAccount bench", f"Host {HOST}", f"Port {dc.ports['imaps']}", f"User {USER}",
            f"Pass {PASSWORD}", "SSLType IMAPS", f"CertificateFile {pin}", "SystemCertificates no", "",
            "IMAPStore far", "Account bench", "",
            "MaildirStore near", f"Path {d}/folders/", f"Inbox {maildir}", "",
            "Channel bench", "Far :far:INBOX", "Near :near:INBOX", "Sync Pull", "Create Near",
            "Expunge None", f"SyncState {d}/state/", ""]))
        argv = [servers.find_program("mbsync"), "-q", "-c", os.path.join(d, "mbsyncrc"), "bench"]
        return argv, self.env(d), maildir


# ------------------------------------------------------------------ machine

def machine():
    lines = []
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        model = "?"
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            mem = int(next(l for l in f if l.startswith("MemTotal")).split()[1]) // 1024
    except (OSError, StopIteration):
        mem = 0
    lines.append(f"machine: {platform.node()}, {platform.system()} {platform.release()}, "
                 f"nproc {nproc} ({model}), {mem} MiB RAM")
    dov = subprocess.run([servers.find_program("dovecot"), "--version"], capture_output=True, text=True)
    lines.append(f"dovecot {dov.stdout.strip()}; python {platform.python_version()}")
    return lines


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def fs_of(path):
    best = ("", "?")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                _, mnt, typ = line.split()[:3]
                if (path + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[0]):
                    best = (mnt, typ)
    except OSError:
        pass
    return f"{best[1]} on {best[0] or '?'}"


def versions(tools):
    out = []
    for t in tools:
        if t.missing():
            continue
        if t.name == "mailsift":
            p = subprocess.run([t.binary, "--version"], capture_output=True, text=True)
            g = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"], capture_output=True,
                               text=True)
            rev = f" (git {g.stdout.strip()})" if g.returncode == 0 and g.stdout.strip() else ""
            out.append((p.stdout.strip().splitlines() or ["mailsift ?"])[0] + rev)
            continue
        cmd = {"fetchmail": ["fetchmail", "--version"], "fdm": None,
               "getmail6": ["getmail", "--version"], "mbsync": ["mbsync", "--version"]}.get(t.name)
        if t.name in ("fdm",):
            p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "fdm"], capture_output=True, text=True)
            out.append(f"fdm {p.stdout.strip() or '?'}")
            continue
        if not cmd:
            continue
        p = subprocess.run(cmd, capture_output=True, text=True)
        text = (p.stdout + p.stderr).splitlines()
        v = next((l for l in text if re.search(r"\d+\.\d+", l) and "WARNING" not in l), "?")
        m = re.search(r"(\d+\.\d+[\w.]*)", v)
        out.append(f"{t.name} {m.group(1) if m else '?'}")
    return out


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", "-n", type=int, default=2000)
    ap.add_argument("--rounds", "-r", type=int, default=3, help="timed runs per tool and protocol (median)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--tools", default="mailsift,mbsync,fetchmail,fdm,getmail6",
                    help="the tools, in the order each round runs them (every second round backwards)")
    ap.add_argument("--protocols", default="imap,pop3")
    ap.add_argument("--mode", choices=("keep", "delete"), default="keep",
                    help="after delivery, keep the mail on the server (default) or delete it")
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per run")
    ap.add_argument("--fsync-check", action=argparse.BooleanOptionalAction, default=False,
                    help="also count fsync + fdatasync + syncfs calls per message of each tool "
                    "(strace -f -c, one untimed run of 200 messages)")
    ap.add_argument("--out", help="also write the report (and results.json) into this directory")
    ap.add_argument("--mailsift", default=os.environ.get("MAILSIFT") or os.path.join(TOP, "mailsift"))
    a = ap.parse_args()

    servers.cleanup_on_signals()
    binary = os.path.abspath(a.mailsift)
    all_tools = [Mailsift(binary), Fetchmail(), Fdm(), Getmail(), Mbsync()]
    wanted = [w.strip() for w in a.tools.split(",") if w.strip()]
    unknown = set(wanted) - {t.name for t in all_tools}
    if unknown:
        ap.error(f"unknown tool(s) {', '.join(sorted(unknown))}; known: {', '.join(t.name for t in all_tools)}")
    tools = [t for t in all_tools if t.name in wanted]  # the table's order
    protos = [p.strip() for p in a.protocols.split(",") if p.strip()]
    if not servers.find_program("dovecot"):
        print("bench: dovecot is not installed (tests/install-deps.sh installs it)", file=sys.stderr)
        return 77
    if Mailsift(binary).missing():
        print(f"bench: no mailsift binary at {binary} (build it, or set MAILSIFT)", file=sys.stderr)
        return 1

    report = []

    def say(line=""):
        print(line, flush=True)
        report.append(line)

    load_start = loadavg()
    for line in machine():
        say(line)
    say("tools: " + "; ".join(versions(tools)))
    msgs = genmail.messages(a.messages, a.seed)
    with_id = sum(1 for m in msgs if MSGID.search(m))
    total_mb = sum(len(m) for m in msgs) / 1e6
    base = servers._mkdtemp("mailsift-bench-", traversable=True)
    say(f"mail: {len(msgs)} messages, {total_mb:.1f} MB (bench/genmail.py seed {a.seed}), "
        f"{a.rounds} round(s), median reported; after delivery: {a.mode} on the server")
    say(f"run order in each round: {', '.join(protos)}, each with {', '.join(wanted)}; every second round "
        "backwards")
    say(f"work dir: {base} ({fs_of(base)}); load average at start: {load_start}")

    results = {}  # (tool, proto) -> list of run dicts, or a string (why not run)
    try:
        with servers.Dovecot() as dc:
            def refill(n=None):
                dc.expunge_all(USER)
                dc.fill(USER, msgs if n is None else msgs[:n])
                os.sync()

            runnable = []
            for t in tools:
                for proto in protos:
                    key = (t.name, proto)
                    if proto not in t.protocols:
                        continue
                    if a.mode not in t.modes:
                        results[key] = f"n/a with --mode {a.mode}"
                        continue
                    miss = t.missing()
                    if miss:
                        results[key] = INSTALL_HINT if t.name != "mailsift" else "not built"
                        continue
                    # a short preflight: the configuration works, caches are warm
                    refill(20)
                    d = tempfile.mkdtemp(prefix=f"{t.name}-{proto}-pre-", dir=base)
                    os.chmod(d, 0o755)
                    argv, env, maildir = t.setup(d, proto, dc, a.mode)
                    r = run_tool(argv, env, d, 120)
                    got = delivered(maildir)
                    shutil.rmtree(d, ignore_errors=True)
                    if r["code"] not in t.ok_codes or got[0] != 20:
                        results[key] = f"failed preflight: exit {r['code']}, {got[0]} of 20 delivered"
                        say(f"{t.name} {proto}: preflight failed (exit {r['code']}, {got[0]}/20):")
                        for line in r["out"].strip().splitlines()[-10:]:
                            say("    " + line)
                        continue
                    results[key] = []
                    runnable.append((t, proto))
            # the run order: protocol by protocol, the tools in --tools order
            runnable.sort(key=lambda tp: (protos.index(tp[1]), wanted.index(tp[0].name)))

            for rnd in range(1, a.rounds + 1):
                for t, proto in (runnable if rnd % 2 else runnable[::-1]):
                    refill()
                    d = tempfile.mkdtemp(prefix=f"{t.name}-{proto}-{rnd}-", dir=base)
                    os.chmod(d, 0o755)
                    argv, env, maildir = t.setup(d, proto, dc, a.mode)
                    r = run_tool(argv, env, d, a.timeout)
                    r["delivered"], r["ids"] = delivered(maildir)
                    r["left"] = len(os.listdir(os.path.join(dc.maildir(USER), "cur"))) + \
                        len(os.listdir(os.path.join(dc.maildir(USER), "new")))
                    r["load"] = loadavg()
                    # keep: everything still on the server; delete: nothing left
                    left_ok = r["left"] == (len(msgs) if a.mode == "keep" else 0)
                    ok = (r["code"] in t.ok_codes and r["delivered"] == len(msgs) and r["ids"] == with_id
                          and left_ok)
                    r["ok"] = ok
                    r["round"] = rnd
                    results[(t.name, proto)].append(r)
                    rate = len(msgs) / r["seconds"]
                    status = "" if ok else (f" (exit {r['code']}, {r['ids']} distinct, {r['left']} left "
                                            "on the server: FAILED)")
                    left = f", {r['killed']} process(es) left running, killed" if r["killed"] else ""
                    print(f"  round {rnd} {t.name:9} {proto:4}: {r['seconds']:7.2f} s {rate:7.1f} msg/s "
                          f"CPU {r['cpu']:6.2f} s ({r['cpu'] * 1000 / len(msgs):.2f} ms/msg), "
                          f"peak {r['peak_kib'] / 1024:6.1f} MiB, {r['delivered']} delivered{status}{left}, "
                          f"load {r['load']}", flush=True)
                    if not ok:
                        for line in r["out"].strip().splitlines()[-5:]:
                            print("      " + line, flush=True)
                    shutil.rmtree(d, ignore_errors=True)

            fsyncs = {}  # (tool, proto) -> dict(per, calls, delivered, n, ok)
            if a.fsync_check and not servers.find_program("strace"):
                say("--fsync-check: strace is not installed; no sync column")
            elif a.fsync_check:
                n = min(200, len(msgs))
                for t, proto in runnable:
                    # a failed run (getmail6 sometimes loses a race under
                    # strace) is tried again, up to 3 times in all
                    for attempt in range(1, 4):
                        refill(n)
                        d = tempfile.mkdtemp(prefix=f"{t.name}-{proto}-strace-", dir=base)
                        os.chmod(d, 0o755)
                        argv, env, maildir = t.setup(d, proto, dc, a.mode)
                        trace = os.path.join(d, "strace.txt")
                        r = run_tool([servers.find_program("strace"), "-f", "-c", "-o", trace,
                                      "-e", "trace=" + ",".join(SYNCS + NOT_SYNCS)] + argv, env, d, a.timeout)
                        calls = {}
                        try:
                            with open(trace) as f:
                                for line in f:
                                    # % time, seconds, usecs/call, calls, [errors,] syscall
                                    parts = line.split()
                                    if len(parts) >= 5 and parts[-1] in SYNCS + NOT_SYNCS:
                                        calls[parts[-1]] = int(parts[3])
                        except (OSError, ValueError):
                            pass
                        got = delivered(maildir)
                        shutil.rmtree(d, ignore_errors=True)
                        fsyncs[(t.name, proto)] = dict(
                            per=sum(calls.get(c, 0) for c in SYNCS) / n, calls=calls, delivered=got[0], n=n,
                            ok=r["code"] in t.ok_codes and got[0] == n, code=r["code"], attempts=attempt,
                            why=r["out"].strip().splitlines()[-3:])
                        if fsyncs[(t.name, proto)]["ok"]:
                            break
    finally:
        if os.environ.get("MAILSIFT_KEEP_SERVERS", "") in ("", "0"):
            shutil.rmtree(base, ignore_errors=True)

    # ---------------------------------------------------------- the table
    say()
    sync_head = "+".join(SYNCS) + "/msg"
    head = (f"{'tool':10} {'proto':5} {'msgs/s':>8} {'CPU ms/msg':>10} {'peak RSS':>9} {'tree RSS':>9} "
            f"{'seconds':>8} {'runs (s)':>17} {'delivered':>9}" + (f" {sync_head:>{len(sync_head)}}" if fsyncs else "")
            + "  TLS")
    say(head)
    say("-" * len(head))
    rates, cpus = {}, {}
    for t in tools:
        for proto in protos:
            key = (t.name, proto)
            if key not in results:
                continue
            rs = results[key]
            if isinstance(rs, str):
                say(f"{t.name:10} {proto:5} {rs}")
                continue
            if not rs:
                continue
            secs = statistics.median(r["seconds"] for r in rs)
            rate = len(msgs) / secs
            good = all(r["ok"] for r in rs)
            cpu_ms = statistics.median(r["cpu"] for r in rs) * 1000 / len(msgs)
            if good:
                rates[key], cpus[key] = rate, cpu_ms
            runs = " ".join(f"{r['seconds']:.1f}" for r in rs)
            peak = statistics.median(r["peak_kib"] for r in rs) / 1024
            tree = statistics.median(r["tree_kib"] for r in rs) / 1024
            dl = "/".join(sorted({str(r["delivered"]) for r in rs}))
            sync = ""
            if fsyncs:
                f = fsyncs.get(key)
                cell = "-" if f is None else f"{f['per']:.2f}" + ("" if f["ok"] else "!")
                sync = f" {cell:>{len(sync_head)}}"
            say(f"{t.name:10} {proto:5} {rate:8.1f} {cpu_ms:10.2f} {peak:7.1f}Mi {tree:7.1f}Mi {secs:8.2f} {runs:>17} "
                f"{dl:>9}{'' if good else '!'}{sync} {t.tls(proto)}")
    say()
    say("msgs/s = messages / median wall-clock seconds (the tool's start to its exit);")
    say("CPU ms/msg = user + sys of every process of the tool's tree (the tool, and every child and")
    say("grandchild: fetchmail's procmails, getmail's and mailsift's worker processes; not Dovecot's),")
    say("median of the runs, divided by the messages;")
    say("peak RSS = largest VmHWM of one process of the tool's tree (median of the runs), tree RSS =")
    say("largest sum over the processes alive at one sample;")
    say(f"delivered = files in new/ and cur/ ('!' = a run failed, delivered other than {len(msgs)} distinct")
    say(f"messages, or left other than {len(msgs) if a.mode == 'keep' else 0} on the server).")
    if fsyncs:
        n = min(200, len(msgs))
        say(f"{sync_head} = calls of {', '.join(SYNCS)} per message by the whole tree")
        say(f"(strace -f -c, one untimed run of {n} messages; '!' = 3 runs failed). These are calls, not")
        say("costs: a syncfs counts once but writes out everything dirty on the filesystem, also what other")
        say("processes wrote (mailsift's batches use one per filesystem). sync_file_range and msync are not in it:")
        for (name, proto), f in fsyncs.items():
            counted = " + ".join(f"{c} {f['calls'].get(c, 0)}" for c in SYNCS)
            apart = ", ".join(f"{c} {f['calls'][c]}" for c in NOT_SYNCS if f["calls"].get(c))
            fail = "" if f["ok"] else f"  FAILED: exit {f['code']}, {f['delivered']} of {n} delivered"
            tries = f" (run {f['attempts']} of 3: the ones before failed)" if f["attempts"] > 1 else ""
            say(f"  {name:10} {proto:5} {counted} = {f['per']:.2f}/msg" + (f"; not counted: {apart}" if apart else "")
                + fail + tries)
            if not f["ok"]:
                for line in f["why"]:
                    say("      " + line[:200])
    killed = sorted({f"{k[0]} {k[1]}" for k, rs in results.items() if isinstance(rs, list)
                     for r in rs if r["killed"]})
    if killed:
        say("left processes running after the tool exited (killed; their CPU time is counted): "
            + ", ".join(killed))

    # ---------------------------------------------------------- ratios
    say()
    say("mailsift compared (its msgs/s divided by the peer's, from the medians; above 1 = mailsift faster):")
    for proto in protos:
        mine = rates.get(("mailsift", proto))
        parts = []
        for t in tools:
            if t.name == "mailsift" or (t.name, proto) not in results:
                continue
            other = rates.get((t.name, proto))
            if mine and other:
                parts.append(f"{t.name} {mine / other:.2f}x")
            else:
                parts.append(f"{t.name} (no result)")
        if parts:
            say(f"  {proto}: " + ", ".join(parts) + ("" if mine else "  (no mailsift result)"))
    ms_runs = results.get(("mailsift", "imap"))
    mb_runs = results.get(("mbsync", "imap"))
    if isinstance(ms_runs, list) and isinstance(mb_runs, list) and ms_runs and mb_runs:
        # the two runs of one round (next to each other with the default --tools order)
        mb_by_round = {r["round"]: r for r in mb_runs if r["ok"]}
        pairs = [(r, mb_by_round[r["round"]]) for r in ms_runs if r["ok"] and r["round"] in mb_by_round]
        if pairs:
            ratios = [mb["seconds"] / ms["seconds"] for ms, mb in pairs]
            rounds = "round" if len(pairs) == 1 else "rounds"
            say(f"mailsift/mbsync IMAP: {statistics.median(ratios):.2f}x (median of {len(pairs)} {rounds}: "
                + " ".join(f"{x:.2f}" for x in ratios) + "; mbsync's seconds over mailsift's in the same round, "
                "above 1 = mailsift faster)")
            say(f"  CPU per message, IMAP: mailsift {cpus.get(('mailsift', 'imap'), float('nan')):.2f} ms, "
                f"mbsync {cpus.get(('mbsync', 'imap'), float('nan')):.2f} ms (medians)")
        else:
            say("mailsift/mbsync IMAP: no round in which both runs succeeded")

    say()
    say("notes: mailsift runs bench/rules50.sieve (50 rules, 19 folders + INBOX) and makes every message (and")
    say("its folder) durable before it records it; the peers file everything into one Maildir, unfiltered.")
    say("fetchmail hands each message to procmail (-m, a Maildir/ recipe): one fork+exec per message.")
    say("getmail6 refuses to deliver as root, so as root its Maildir is written as nobody (a fork per")
    say("message, as always). mbsync pins the server certificate (it ignores IP SANs); fdm checks the")
    say("chain only (no host name). Every tool speaks implicit TLS to 127.0.0.1; nothing is plaintext.")
    say(f"load average at start {load_start}, at end {loadavg()} (nproc "
        f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}); "
        "the machine may be shared: compare rows of one report, not across reports.")

    if a.out:
        os.makedirs(a.out, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with open(os.path.join(a.out, f"bench-{stamp}.txt"), "w") as f:
            f.write("\n".join(report) + "\n")
        with open(os.path.join(a.out, f"bench-{stamp}.json"), "w") as f:
            json.dump({f"{k[0]}/{k[1]}": (v if isinstance(v, str) else
                                          [{kk: vv for kk, vv in r.items() if kk != "out"} for r in v])
                       for k, v in results.items()} |
                      {f"{k[0]}/{k[1]}/syncs": v for k, v in fsyncs.items()}, f, indent=1)
        print(f"(written to {a.out}/bench-{stamp}.txt and .json)")
    failed = any(isinstance(v, list) and v and not all(r["ok"] for r in v) for v in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
