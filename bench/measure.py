#!/usr/bin/python3
"""What the benchmarks measure of a program run: its wall-clock time, the
CPU time (user + sys) of its whole process tree, and its memory.

CPU time. getrusage(RUSAGE_CHILDREN) and the rusage of wait4() hold the
CPU time of the children a process has reaped, each with everything
that child had reaped in turn. A descendant its parent never waited for
(a double fork, or a process still running when the program exits and
then killed) would be missing. So the program runs under a reaper, this
file run as a script:

    python3 -I -S bench/measure.py FD PROGRAM [ARG...]

which makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a
descendant whose parent is gone becomes its child instead of init's.
It forks and execs the program, waits for it, then waits for every
descendant that is left (killing, after a grace period, what is still
running, and counting those), and writes as JSON to the file descriptor
FD: the program's exit status, the seconds from the fork to the
program's exit, and its RUSAGE_CHILDREN, which is then the user and
system time of every process of the tree and of nothing else (not the
reaper's own Python start, which is before the fork and in RUSAGE_SELF).

For loops that start one short process per message (queue-bench.py), a
reaper each time would add a Python start to every message's wall clock:
there the benchmark process itself becomes the subreaper (subreaper()),
takes RUSAGE_CHILDREN before and after the loop and reaps what is left
(reap_all()) before the second reading.

Memory. ru_maxrss is useless here (a child inherits the high-water mark of
the Python process it was forked from, across exec), so a thread samples
VmHWM of every process of the tree from /proc every few ms (Sampler).
"""
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.dirname(os.path.abspath(__file__))
REAPER = [sys.executable, "-I", "-S", os.path.join(HERE, "measure.py")]
REAPER_CMD = "\0".join(REAPER).encode() + b"\0"


def subreaper():
    """Make this process a child subreaper; False if the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(c) for c in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def reap_all(grace=2.0):
    """Wait for every child this process still has (in a subreaper: also
    the orphans of its descendants); what still runs after grace seconds
    is killed. Returns the number of processes killed."""
    deadline = time.monotonic() + grace
    killed = set()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return len(killed)
        if pid:
            continue
        if time.monotonic() < deadline:
            time.sleep(0.01)
            continue
        for c in children(os.getpid()):
            if c not in killed:
                try:
                    os.kill(c, signal.SIGKILL)
                    killed.add(c)
                except ProcessLookupError:
                    pass
        time.sleep(0.01)


def cpu_children():
    """(user, sys) seconds of the reaped children of this process."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime, ru.ru_stime


def _mem(pid):
    """VmHWM in KiB, None for a zombie or a process that is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return None


class Sampler(threading.Thread):
    """Samples the memory of a process tree until stop(): peak is the
    largest VmHWM of any one process, tree the largest sum of the VmHWM of
    the processes alive at one sample (an upper bound of what the tree
    held at once), procs the number of distinct processes seen. With
    skip_root, the root (the reaper) is not counted, nor its child between
    fork and exec (a copy of the reaper: its VmHWM is the reaper's)."""

    def __init__(self, pid, interval=0.004, skip_root=False):
        super().__init__(daemon=True)
        self.pid, self.interval, self.skip_root = pid, interval, skip_root
        self.peak = self.tree = 0
        self.seen = set()
        self._halt = threading.Event()

    def _reaper_copy(self, p):
        """True for the reaper's child before its exec (its command line is
        the reaper's, or empty in the middle of the exec)."""
        if p in self.seen:
            return False
        cmd = _cmdline(p)
        return cmd is None or cmd == b"" or cmd.startswith(REAPER_CMD)

    def run(self):
        while not self._halt.is_set():
            total = 0
            for p in tree(self.pid):
                if self.skip_root and (p == self.pid or self._reaper_copy(p)):
                    continue
                m = _mem(p)
                if m:
                    self.seen.add(p)
                    self.peak = max(self.peak, m)
                    total += m
            self.tree = max(self.tree, total)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def run_tool(argv, env=None, cwd=None, timeout=1200.0, stdin=None):
    """Run argv under the reaper; return dict(code ("timeout" if it was
    killed for taking too long), seconds (fork to the program's exit),
    cpu (user + sys seconds of the whole tree), user, sys, killed
    (processes still running after the program exited, killed), peak_kib,
    tree_kib, procs, out (stdout and stderr))."""
    out_f = tempfile.TemporaryFile()
    rfd, wfd = os.pipe()
    t0 = time.monotonic()
    p = subprocess.Popen(REAPER + [str(wfd)] + list(argv),
                         env=env, cwd=cwd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=out_f, stderr=subprocess.STDOUT, pass_fds=(wfd,), start_new_session=True)
    os.close(wfd)
    s = Sampler(p.pid, skip_root=True)
    s.start()
    expired = []

    def expire():
        expired.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    timer = threading.Timer(timeout, expire)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    s.stop()
    try:
        os.killpg(p.pid, signal.SIGKILL)  # nothing of it may linger into the next run
    except ProcessLookupError:
        pass
    with os.fdopen(rfd, "rb") as f:
        raw = f.read()
    out_f.seek(0)
    out = out_f.read().decode(errors="replace")
    try:
        rep = json.loads(raw)
    except ValueError:
        rep = None
    if rep is None or expired:
        # killed (timeout) or the reaper failed: the reaper's own figures,
        # which include its Python start; the run counts as failed anyway
        r = dict(code="timeout" if expired else f"reaper failed ({p.returncode})", seconds=wall,
                 user=ru.ru_utime, sys=ru.ru_stime, killed=0)
    else:
        r = dict(code=rep["code"], seconds=rep["seconds"], user=rep["user"], sys=rep["sys"],
                 killed=rep["killed"])
    r.update(cpu=r["user"] + r["sys"], peak_kib=s.peak, tree_kib=s.tree, procs=len(s.seen), out=out)
    return r


def _reaper(argv):
    fd = int(argv[0])
    cmd = argv[1:]
    if not subreaper():
        os.write(2, b"measure.py: prctl(PR_SET_CHILD_SUBREAPER) failed\n")
        return 126
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(fd)
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, f"measure.py: {cmd[0]}: {e}\n".encode())
        os._exit(127)
    # a signal for the group (the benchmark's timeout) is for the program
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - t0
    killed = reap_all()
    user, sys_ = cpu_children()
    os.write(fd, json.dumps(dict(code=os.waitstatus_to_exitcode(status), seconds=seconds, user=user, sys=sys_,
                                 killed=killed)).encode())
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(_reaper(sys.argv[1:]))
