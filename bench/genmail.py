#!/usr/bin/python3
"""Deterministic test mail for the fetch benchmark (bench/run-bench.py).

    messages(n=2000, seed=20240601) -> [bytes]

n RFC 5322 messages of 10 to 20 KB each (LF line ends), the same bytes for
the same n and seed on every machine: mailing-list traffic, newsletters,
bounces, invoices, monitoring alerts, code-review notifications, work,
family and social mail, travel and shopping, spam, plain personal mail;
text/plain, quoted-printable, multipart/alternative with HTML,
multipart/mixed with a base64 attachment, RFC 2047 encoded subjects,
folded headers, 2 to 5 Received lines. bench/rules50.sieve sorts them into
19 folders and INBOX.

Run as a program to write them into a directory, one file each
(NNNN.eml), and print a summary of kinds and sizes:

    bench/genmail.py [-n 2000] [--seed 20240601] DIR
"""
import argparse
import base64
import os
import random
import sys

MIN_SIZE = 10 * 1024
MAX_SIZE = 20 * 1024

WORDS = """the of and to in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their has
would when if so no will my more what out up who them some could him into its
then two than only other new time these may like do any my now over such our
man me even most made after also did many before must through back years where
much your way well down should because each just those people how too little
state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year
off come since against go came right used take three mailing list patch review
server kernel build release commit branch merge schedule meeting invoice order
deploy rollback latency memory cache queue socket buffer thread process module
config option default value error warning notice message header body folder
""".split()

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "yasmin", "zoe", "anna", "bernd", "chloe", "dmitri", "elena", "farid", "gunnar",
         "hana", "ines", "jonas", "kenji", "lea", "marta", "noor", "oskar", "pia", "quentin"]
LAST = ["smith", "jones", "garcia", "muller", "rossi", "novak", "tanaka", "kim", "silva",
        "dubois", "nielsen", "kowalski", "ivanova", "okafor", "haddad", "larsen", "moreau"]
DOMAINS = ["example.com", "example.net", "mail.example", "post.example", "uni.example",
           "isp.example", "freemail.example", "company.example"]
ME = ["me@example.org", "me@example.org", "me@example.org", "me@work.example", "me+lists@example.org"]

LISTS = [
    # (List-Id, list address, weight)
    ("Developers <dev.lists.example.org>", "dev@lists.example.org", 10),
    ("Announcements <announce.lists.example.org>", "announce@lists.example.org", 3),
    ("Users <users.lists.example.org>", "users@lists.example.org", 8),
    ("Security <security.lists.example.org>", "security@lists.example.org", 2),
    ("Linux kernel <kernel.vger.example>", "linux-kernel@vger.example", 10),
    ("Python list <python-list.python.example>", "python-list@python.example", 5),
    ("Gardening club <garden.clubs.example>", "garden@clubs.example", 2),
    ("Local chess <chess.clubs.example>", "chess@clubs.example", 2),
]

SUBJECT_TOPICS = ["memory leak in the parser", "release 2.4 schedule", "build broken on arm64",
                  "proposal: drop the legacy API", "question about configuration", "meeting notes",
                  "performance regression since 1.9", "documentation fixes", "new contributor guide",
                  "flaky test in CI", "upgrade to the new toolchain", "RFC: streaming interface",
                  "crash when the disk is full", "locale handling", "weekend plans", "lunch?",
                  "the report you asked for", "draft for review", "travel expenses", "quick question"]

ENCODED_SUBJECTS = ["=?UTF-8?B?w5xiZXIgZGllIEJlc3RlbGx1bmc=?=",            # Über die Bestellung
                    "=?UTF-8?Q?Caf=C3=A9_am_Sonntag?=",                      # Café am Sonntag
                    "=?ISO-8859-1?Q?R=E9union_de_l'=E9quipe?=",              # Réunion de l'équipe
                    "=?UTF-8?B?0J/RgNC40LLQtdGCINC40Lcg0JzQvtGB0LrQstGL?="]  # Привет из Москвы


def _addr(rng):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return f"{f.capitalize()} {l.capitalize()}", f"{f}.{l}@{rng.choice(DOMAINS)}"


def _words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _paragraphs(rng, size):
    """Plain text of about size bytes: paragraphs of lines under 76
    characters, sometimes a quoted block or a signature."""
    out, total = [], 0
    while total < size:
        para = []
        for _ in range(rng.randint(2, 8)):
            line = _words(rng, rng.randint(6, 12))
            para.append(("> " if rng.random() < 0.15 else "") + line[:74])
        text = "\n".join(para) + "\n\n"
        out.append(text)
        total += len(text)
    if rng.random() < 0.5:
        out.append("-- \n" + _words(rng, 4) + "\n")
    return "".join(out)


def _qp(text):
    """Quoted-printable of mostly ASCII text with some Latin-1 letters."""
    out = []
    for line in text.split("\n"):
        enc, width = [], 0
        for ch in line:
            piece = ch if (32 <= ord(ch) < 127 and ch != "=") else "".join(
                f"={b:02X}" for b in ch.encode("utf-8"))
            if width + len(piece) > 73:
                enc.append("=\n")
                width = 0
            enc.append(piece)
            width += len(piece)
        out.append("".join(enc))
    return "\n".join(out)


def _date(rng, i):
    day = 1 + (i * 7 + rng.randint(0, 6)) % 28
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][i % 12]
    wday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][(day + i) % 7]
    return (f"{wday}, {day:02d} {month} 2024 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d} {rng.choice(['+0000', '+0100', '+0200', '-0500', '-0800'])}")


def _received(rng, i, hops):
    lines = []
    for h in range(hops):
        host = f"mx{rng.randint(1, 9)}.{rng.choice(DOMAINS)}"
        lines.append(f"Received: from {host} ({host} [192.0.2.{rng.randint(1, 254)}])\n"
                     f"\tby mail{h}.example.org (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n"
                     f"\tfor <me@example.org>; {_date(rng, i)}")
    return lines


def _kind(rng):
    kinds = [("list", 30), ("newsletter", 8), ("bounce", 3), ("invoice", 4), ("alert", 6),
             ("notification", 10), ("work", 10), ("family", 4), ("social", 4), ("travel", 2),
             ("shopping", 3), ("spam", 6), ("personal", 10)]
    r = rng.uniform(0, sum(w for _, w in kinds))
    for k, w in kinds:
        r -= w
        if r <= 0:
            return k
    return kinds[-1][0]


def _one(rng, i):
    """(kind, header lines, extra header lines, subject, from) for message i."""
    kind = _kind(rng)
    name, addr = _addr(rng)
    frm = f"{name} <{addr}>"
    to = rng.choice(ME)
    subject = rng.choice(SUBJECT_TOPICS)
    extra = []
    ret = addr
    if kind == "list":
        lid, laddr, _ = rng.choices(LISTS, weights=[w for *_, w in LISTS])[0]
        to = laddr
        subject = ("Re: " if rng.random() < 0.6 else "") + f"[{laddr.split('@')[0]}] " + subject
        extra += [f"List-Id: {lid}", f"List-Post: <mailto:{laddr}>",
                  f"List-Unsubscribe: <mailto:{laddr.replace('@', '-unsubscribe@')}>",
                  "Precedence: list"]
        ret = laddr.replace("@", "-bounces@")
        if rng.random() < 0.1:  # a Debian list without List-Id
            extra = [l for l in extra if not l.startswith("List-Id")]
            frm = f"{name} via debian-user <debian-user@lists.debian.example>"
    elif kind == "newsletter":
        brand = rng.choice(["Weekly Digest", "TechNews", "Garden Monthly", "City Events"])
        sender = rng.choice(["newsletter", "news", "digest", "noreply-news"])
        frm = f"{brand} <{sender}@{rng.choice(['news.example', 'mailer.example'])}>"
        subject = f"{brand}: {subject}"
        extra += ["List-Unsubscribe: <https://news.example/unsub?u=%d>" % rng.getrandbits(32)]
        if rng.random() < 0.7:
            extra.append("Precedence: bulk")
        extra.append("X-Mailer: " + rng.choice(["MailChimp Mailer", "Sendinblue", "Mailjet", "custom"]))
    elif kind == "bounce":
        frm = rng.choice(["MAILER-DAEMON@mx1.example.org (Mail Delivery System)",
                          "Mail Delivery Subsystem <postmaster@isp.example>"])
        subject = rng.choice(["Undelivered Mail Returned to Sender", "Delivery Status Notification (Failure)"])
        ret = ""
    elif kind == "invoice":
        frm = rng.choice(["Shop <billing@shop.example>", "Hosting <accounts@hosting.example>",
                          "Payments <receipts@payments.example>", "Stadtwerke <service@stadtwerke.example>"])
        subject = rng.choice([f"Invoice 2024-{i:05d}", f"Rechnung Nr. {i}", f"Your receipt from {name}",
                              f"Facture {i} disponible"])
    elif kind == "alert":
        frm = rng.choice(["Nagios <nagios@monitor.example>", "Alertmanager <alertmanager@monitor.example>",
                          "Cron Daemon <root@server.example>"])
        sev = rng.choice(["critical", "warning", "info"])
        if "Cron" in frm:
            subject = f"[cron] /usr/local/bin/backup-{i % 5}.sh"
        else:
            subject = f"[{sev.upper()}] disk usage on db{i % 4} is {rng.randint(70, 99)}%"
            extra.append(f"X-Alert-Severity: {sev}")
    elif kind == "notification":
        src = rng.choice(["github", "gitlab", "jenkins", "jira"])
        if src == "github":
            frm = f"{name} <notifications@github.example>"
            subject = f"Re: [acme/widget] {subject} (#{rng.randint(1, 4000)})"
        elif src == "gitlab":
            frm = "GitLab <gitlab@git.company.example>"
            extra.append("X-GitLab-Project: widget")
        elif src == "jenkins":
            frm = "Jenkins <jenkins@ci.company.example>"
            subject = rng.choice(["Build failed in Jenkins: widget #%d" % i, "Build fixed: widget #%d" % i])
            extra.append(f"X-Jenkins-Job: widget-{i % 3}")
        else:
            frm = "JIRA <jira@company.example>"
            subject = f"[JIRA] (WID-{rng.randint(100, 999)}) {subject}"
    elif kind == "work":
        f, l = rng.choice(FIRST), rng.choice(LAST)
        frm = rng.choice([f"{f.capitalize()} {l.capitalize()} <{f}@work.example>",
                          "The Boss <boss@work.example>", f"{f.capitalize()} <{f}@partner.example>"])
        to = "me@work.example"
        if rng.random() < 0.3:
            subject = rng.choice(["[project-x] ", "[ops] ", "standup: "]) + subject
        if rng.random() < 0.2:
            extra.append("Importance: high")
    elif kind == "family":
        frm = rng.choice(["Mum <mum@family.example>", "Dad <dad@family.example>", "Sis <sis@family.example>",
                          "Uncle Joe <joe@family.example>", f"{name} <{addr}>"])
        subject = rng.choice(["Sunday lunch", "holiday photos", "Happy birthday!", subject])
    elif kind == "social":
        frm = rng.choice([f"{name} <notify@social.example>", "Photos <share@photos.example>",
                          "Forum <noreply@forum.example>", f"{name} <{addr}>"])
        subject = rng.choice([f"{name} mentioned you in a comment", "You have 3 new messages", subject])
    elif kind == "travel":
        frm = rng.choice(["Airline <tickets@airline.example>", "Rail <noreply@rail.example>",
                          "Hotels <stay@hotels.example>"])
        subject = rng.choice(["Your boarding pass", "Booking confirmation", "Your itinerary", "Trip update"])
    elif kind == "shopping":
        frm = "Shop <orders@shop.example>"
        subject = rng.choice([f"Your order {i} has shipped", "Order confirmation", "Out for delivery today"])
    elif kind == "spam":
        dom = rng.choice(["spammy.example", "bulkdeals.example", "win-big.example", "freemail.example"])
        frm = f"{name} <{addr.split('@')[0]}@{dom}>"
        ret = f"bounce-{rng.getrandbits(24):06x}@{dom}"
        subject = rng.choice(["lottery winner notification", "claim your prize today", "cheap meds online",
                              "crypto giveaway!!!", "re: your account"])
        if rng.random() < 0.5:
            extra.append("X-Spam-Flag: YES")
        extra.append("X-Spam-Level: " + "*" * rng.randint(2, 9))
    else:  # personal
        if rng.random() < 0.15:
            subject = rng.choice(ENCODED_SUBJECTS)
        if rng.random() < 0.1:
            extra.append("X-Priority: 1 (Highest)")
    return kind, frm, to, subject, ret, extra


def message(rng, i):
    kind, frm, to, subject, ret, extra = _one(rng, i)
    size = rng.randint(MIN_SIZE, MAX_SIZE)
    head = [f"Return-Path: <{ret}>"] + _received(rng, i, rng.randint(2, 5))
    head += [f"Date: {_date(rng, i)}", f"From: {frm}", f"To: {to}"]
    if rng.random() < 0.25:
        cc = ", ".join(f"{n} <{a}>" for n, a in (_addr(rng) for _ in range(rng.randint(1, 4))))
        if len(cc) > 60:  # fold long Cc lines
            cc = cc.replace(", ", ",\n ", 1)
        head.append(f"Cc: {cc}")
    head.append(f"Subject: {subject}")
    if rng.random() > 0.01:  # a few have none
        head.append(f"Message-ID: <bench-{i:05d}.{rng.getrandbits(32):08x}@genmail.example>")
    if rng.random() < 0.5:
        head.append(f"In-Reply-To: <bench-{rng.randint(0, max(i, 1)):05d}@genmail.example>")
    head += extra
    head.append("MIME-Version: 1.0")
    style = rng.choices(["plain", "qp", "alternative", "mixed"], weights=[45, 15, 25, 15])[0]
    if kind == "bounce":
        style = "report"
    boundary = f"=_bench_{i}_{rng.getrandbits(48):012x}"
    # the body is made a little small, then padded to the exact size
    budget = size - sum(len(h) + 1 for h in head) - 200
    if style == "plain":
        head.append("Content-Type: text/plain; charset=us-ascii")
        head.append("Content-Transfer-Encoding: 7bit")
        body = _paragraphs(rng, max(budget, 100))
    elif style == "qp":
        head.append("Content-Type: text/plain; charset=utf-8")
        head.append("Content-Transfer-Encoding: quoted-printable")
        text = _paragraphs(rng, max(budget * 9 // 10, 100)).replace(" the ", " thé ").replace(" over ", " über ")
        body = _qp(text)
    elif style == "alternative":
        head.append(f'Content-Type: multipart/alternative;\n boundary="{boundary}"')
        text = _paragraphs(rng, max(budget // 3, 100))
        html = "<html><body>\n" + "".join(f"<p>{p}</p>\n" for p in text.split("\n\n") if p) + "</body></html>\n"
        body = (f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
                "Content-Type: text/plain; charset=us-ascii\n\n" + text +
                f"\n--{boundary}\nContent-Type: text/html; charset=us-ascii\n\n" + html +
                f"\n--{boundary}--\n")
    elif style == "mixed":
        head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        text = _paragraphs(rng, max(budget // 4, 100))
        ctype = rng.choice(["application/pdf", "image/png", "application/zip", "application/x-msdownload"
                            if kind == "spam" else "text/csv"])
        raw = rng.randbytes(max(budget - len(text), 600) * 3 // 4 - 400)
        b64 = base64.encodebytes(raw).decode()
        body = (f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n{text}\n"
                f"--{boundary}\nContent-Type: {ctype}; name=\"file{i}\"\n"
                f"Content-Disposition: attachment; filename=\"file{i}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{b64}--{boundary}--\n")
    else:  # report
        head.append(f'Content-Type: multipart/report; report-type=delivery-status;\n boundary="{boundary}"')
        text = _paragraphs(rng, max(budget // 2, 100))
        body = (f"--{boundary}\nContent-Type: text/plain\n\nThis is the mail system. I'm sorry to have to "
                f"inform you that your message could not be delivered.\n\n{text}\n"
                f"--{boundary}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx1.example.org\n"
                f"Final-Recipient: rfc822; nobody{i}@example.net\nAction: failed\nStatus: 5.1.1\n\n"
                f"--{boundary}\nContent-Type: text/rfc822-headers\n\nFrom: me@example.org\n"
                f"To: nobody{i}@example.net\nSubject: {_words(rng, 5)}\n\n--{boundary}--\n")
    msg = ("\n".join(head) + "\n\n" + body).encode()
    if len(msg) < size:  # pad with a trailing text block (after the last MIME part: an epilogue)
        pad = []
        while len(msg) + sum(len(p) for p in pad) < size:
            pad.append((_words(rng, 12)[:74] + "\n").encode())
        msg += b"".join(pad)
    if len(msg) > MAX_SIZE:
        msg = msg[:MAX_SIZE - 1] + b"\n"  # only the padding/epilogue or a plain body is cut
    return kind, msg


def messages(n=2000, seed=20240601, kinds=False):
    """n messages as bytes (with kinds=True: a list of (kind, bytes))."""
    rng = random.Random(seed)
    out = [message(rng, i) for i in range(n)]
    return out if kinds else [m for _, m in out]


def main():
    ap = argparse.ArgumentParser(description="write the benchmark's messages into DIR")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("dir")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    counts, sizes = {}, []
    for i, (kind, m) in enumerate(messages(a.n, a.seed, kinds=True)):
        with open(os.path.join(a.dir, f"{i:04d}.eml"), "wb") as f:
            f.write(m)
        counts[kind] = counts.get(kind, 0) + 1
        sizes.append(len(m))
    print(f"{a.n} messages in {a.dir}: {sum(sizes)} bytes, {min(sizes)}..{max(sizes)} each")
    for k, c in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {k:13} {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
