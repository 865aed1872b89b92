#!/usr/bin/python3
"""Full disk: `mailsift deliver` onto a tiny tmpfs must exit 75 (the MTA
retries) and leave nothing half-written in new/, cur/ or tmp/; with room
it delivers. A state store that cannot be written (its disk full, it or
its queue folder read-only) does not stop delivery: exit 0, and what
needs the store (a redirect) keeps the message instead. Runs itself
inside a private mount namespace (unshare), so the tmpfs and read-only
mounts vanish with it. Prints TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

MAILSIFT = os.environ.get("MAILSIFT", "./mailsift")


def files_under(root):
    out = []
    for d, _, fs in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in fs if f != "maildirfolder"]
    return sorted(out)


def run(cfg, message, args=()):
    p = subprocess.run([MAILSIFT, "deliver", "-c", cfg, *args], input=message, capture_output=True)
    return p.returncode, p.stderr.decode(errors="replace")


def write_config(tmp, maildir, state, script_text):
    script = os.path.join(tmp, "s.sieve")
    with open(script, "w") as f:
        f.write(script_text)
    cfg = os.path.join(tmp, "config")
    with open(cfg, "w") as f:
        f.write(f"[general]\nmaildir = {maildir}\nstate_dir = {state}\nscript = {script}\n"
                "addresses = me@example.org\n")
    os.chmod(cfg, 0o600)
    return cfg


def inside():
    tmp = tempfile.mkdtemp(prefix="mailsift-full-")
    disk = os.path.join(tmp, "disk")
    statedisk = os.path.join(tmp, "statedisk")
    os.mkdir(disk)
    os.mkdir(statedisk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", statedisk], check=True)
    maildir = os.path.join(disk, "Maildir")
    small = b"From: a@example.org\nTo: me@example.org\nSubject: small\n\nhello\n"
    big = b"From: a@example.org\nSubject: big\n\n" + b"x" * 2_000_000 + b"\n"
    results = []

    cfg = write_config(tmp, maildir, os.path.join(tmp, "state"), 'require "fileinto";\nfileinto "Big";\nkeep;\n')
    code, err = run(cfg, big)
    left = files_under(maildir)
    results.append(("message larger than the disk: exit 75, nothing left",
                    code == 75 and left == [] and "No space left" in err, f"exit {code}, files {left}, {err}"))

    code, err = run(cfg, small)
    left = files_under(maildir)
    ok = code == 0 and len([f for f in left if "/new/" in "/" + f]) == 2
    results.append(("small message still fits: delivered to both folders", ok, f"exit {code}, files {left}, {err}"))

    # the state store on a full disk: mail is still delivered, without
    # what needs the store (the redirect keeps the message instead)
    shutil.rmtree(maildir)
    state = os.path.join(statedisk, "state")
    cfg = write_config(tmp, maildir, state, 'redirect "bob@example.net";\nkeep;\n')
    code, err = run(cfg, small)  # creates state.db while there is room
    try:
        with open(os.path.join(statedisk, "filler"), "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass  # the disk is full now
    before = files_under(maildir)
    queued = files_under(os.path.join(state, "queue"))
    code, err = run(cfg, small)
    after = files_under(maildir)
    results.append(("state disk full, redirect + keep: exit 0, kept once, nothing queued, the log says "
                    "why and what to do",
                    code == 0 and len(after) == len(before) + 1
                    and ("state.db" in err or "/state/queue/" in err)
                    and "redirect to bob@example.net not done" in err
                    and ("free some space" in err or "check the disk" in err)
                    and files_under(os.path.join(state, "queue")) == queued,
                    f"exit {code}, before {before}, after {after}, {err}"))
    cfg = write_config(tmp, maildir, state, "keep;\n")
    code, err = run(cfg, small)
    results.append(("state disk full, keep only: exit 0, delivered",
                    code == 0 and len(files_under(maildir)) == len(after) + 1,
                    f"exit {code}, files {files_under(maildir)}, {err}"))

    # a read-only state store (its folder mounted read-only)
    shutil.rmtree(maildir)
    state = os.path.join(tmp, "rostate")
    cfg = write_config(tmp, maildir, state, 'redirect "bob@example.net";\n')
    code, err = run(cfg, small)  # creates state.db and queues one
    subprocess.run(["mount", "--bind", state, state], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", state], check=True)
    code, err = run(cfg, small)
    kept = files_under(maildir)
    results.append(("read-only state store, redirect only: exit 0, the message kept in INBOX",
                    code == 0 and len([f for f in kept if f.startswith("new/")]) == 1
                    and "redirect to bob@example.net not done" in err and "writable" in err,
                    f"exit {code}, files {kept}, {err}"))
    cfg = write_config(tmp, maildir, state, "keep;\n")
    code, err = run(cfg, small)
    results.append(("read-only state store, keep only: exit 0, delivered",
                    code == 0 and len(files_under(maildir)) == len(kept) + 1,
                    f"exit {code}, files {files_under(maildir)}, {err}"))
    subprocess.run(["umount", state])

    # state.db fine, the queue beside it read-only: the redirect cannot be
    # queued, the message is kept instead
    shutil.rmtree(maildir)
    state = os.path.join(tmp, "roqueue")
    cfg = write_config(tmp, maildir, state, 'redirect "bob@example.net";\n')
    code, err = run(cfg, small)  # creates state.db and the queue folder
    queue = os.path.join(state, "queue")
    before = files_under(queue)
    subprocess.run(["mount", "--bind", queue, queue], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", queue], check=True)
    code, err = run(cfg, small)
    kept = files_under(maildir)
    results.append(("queue folder read-only, redirect only: exit 0, the message kept in INBOX, nothing "
                    "queued", code == 0 and len(kept) == 1 and files_under(queue) == before
                    and "redirect to bob@example.net not done" in err,
                    f"exit {code}, files {kept}, queue {before} -> {files_under(queue)}, {err}"))
    subprocess.run(["umount", queue])

    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            for line in detail.splitlines():
                print(f"# {line}")
    subprocess.run(["umount", disk])
    subprocess.run(["umount", statedisk])
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main():
    if os.environ.get("MAILSIFT_IN_NAMESPACE") == "1":
        return inside()
    env = dict(os.environ, MAILSIFT_IN_NAMESPACE="1", MAILSIFT=os.path.abspath(MAILSIFT))
    unshare = ["unshare", "--mount"] if os.getuid() == 0 else ["unshare", "--map-root-user", "--mount"]
    probe = subprocess.run(unshare + ["true"], capture_output=True)
    if probe.returncode != 0:
        print("1..0 # SKIP cannot make a private mount namespace here (run as root, as CI does)")
        return 0
    return subprocess.run(unshare + [sys.executable, os.path.abspath(__file__)], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
