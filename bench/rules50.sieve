# rules50.sieve - the 50-rule script that bench/run-bench.py gives
# mailsift for the fetch benchmark. It sorts the mail that bench/genmail.py
# makes into 19 folders and INBOX (Junk, Lists.*, Newsletters, Bounces,
# Invoices, Alerts, Notifications, Work, Family, Social, Travel, Shopping).
#
# Written for libsieve 2.2.6 (see "Sieve support" in the README): every
# extension is named in require, flags only with addflag and :flags (no
# setflag, no hasflag), no backslash escapes in test keys, and :matches
# patterns with at most two '*'. Check it with:
#     mailsift check bench/rules50.sieve
#
# Rules are numbered R1..R50 (one per if/elsif test).

require ["fileinto", "envelope", "imap4flags"];

# ---- Junk -----------------------------------------------------------
# R1
if header :is "X-Spam-Flag" "YES" {
    fileinto "Junk";
    stop;
}
# R2
if header :contains "X-Spam-Level" "*****" {
    fileinto "Junk";
    stop;
}
# R3
if header :contains "subject" ["lottery winner", "claim your prize", "cheap meds", "crypto giveaway"] {
    fileinto "Junk";
    stop;
}
# R4
if envelope :domain :is "from" ["spammy.example", "bulkdeals.example", "win-big.example"] {
    fileinto "Junk";
    stop;
}
# R5
if allof (size :over 19K, header :contains "Content-Type" "application/x-msdownload") {
    fileinto "Junk";
    stop;
}

# ---- Mailing lists ----------------------------------------------------
# R6
if header :contains "List-Id" "<dev.lists.example.org>" {
    fileinto "Lists.dev";
    stop;
}
# R7
if header :contains "List-Id" "<announce.lists.example.org>" {
    fileinto :flags "\\Seen" "Lists.announce";
    stop;
}
# R8
if header :contains "List-Id" "<users.lists.example.org>" {
    fileinto "Lists.users";
    stop;
}
# R9
if header :contains "List-Id" "<security.lists.example.org>" {
    addflag "\\Flagged";
    fileinto "Lists.security";
    stop;
}
# R10
if header :matches "List-Id" "*<kernel.*" {
    fileinto "Lists.kernel";
    stop;
}
# R11
if address :domain :is "from" "lists.debian.example" {
    fileinto "Lists.debian";
    stop;
}
# R12
if header :contains "List-Post" "mailto:python-list@" {
    fileinto "Lists.python";
    stop;
}
# R13
if exists "List-Id" {
    fileinto "Lists";
    stop;
}

# ---- Newsletters --------------------------------------------------------
# R14
if allof (exists "List-Unsubscribe", header :is "Precedence" "bulk") {
    fileinto :flags "\\Seen" "Newsletters";
    stop;
}
# R15
if address :localpart :is "from" ["newsletter", "news", "digest", "noreply-news"] {
    fileinto "Newsletters";
    stop;
}
# R16
if header :contains "X-Mailer" ["MailChimp", "Sendinblue", "Mailjet"] {
    fileinto "Newsletters";
    stop;
}

# ---- Bounces and delivery reports -----------------------------------------
# R17
if address :localpart :is "from" ["mailer-daemon", "postmaster"] {
    fileinto "Bounces";
    stop;
}
# R18
if header :contains "Content-Type" "report-type=delivery-status" {
    fileinto "Bounces";
    stop;
}
# R19
if header :matches "subject" "Undelivered Mail Returned*" {
    fileinto "Bounces";
    stop;
}

# ---- Invoices and receipts ------------------------------------------------
# R20
if header :contains "subject" ["invoice", "rechnung", "facture"] {
    fileinto "Invoices";
    stop;
}
# R21
if address :is "from" ["billing@shop.example", "accounts@hosting.example", "receipts@payments.example"] {
    fileinto "Invoices";
    stop;
}
# R22
if header :matches "subject" "Your receipt from *" {
    fileinto "Invoices";
    stop;
}

# ---- Monitoring alerts ----------------------------------------------------
# R23
if header :is "X-Alert-Severity" "critical" {
    addflag "\\Flagged";
    fileinto "Alerts";
    stop;
}
# R24
if header :is "X-Alert-Severity" ["warning", "info"] {
    fileinto :flags "\\Seen" "Alerts";
    stop;
}
# R25
if address :is "from" ["nagios@monitor.example", "alertmanager@monitor.example"] {
    fileinto "Alerts";
    stop;
}
# R26
if header :matches "subject" "?cron? *" {
    fileinto "Alerts";
    stop;
}

# ---- Notifications (code review, CI, tickets) -----------------------------
# R27
if address :domain :is "from" "github.example" {
    fileinto "Notifications";
    stop;
}
# R28
if exists "X-GitLab-Project" {
    fileinto "Notifications";
    stop;
}
# R29
if header :contains "X-Jenkins-Job" "" {
    fileinto "Notifications";
    stop;
}
# R30
if address :localpart :is "from" ["jira", "bugzilla-daemon", "redmine"] {
    fileinto "Notifications";
    stop;
}
# R31
if header :contains "subject" "Build failed" {
    addflag "\\Flagged";
    fileinto "Notifications";
    stop;
}

# ---- Work ---------------------------------------------------------------
# R32
if address :is "from" "boss@work.example" {
    addflag "\\Flagged";
    fileinto "Work";
    stop;
}
# R33
if allof (address :domain :is "from" "work.example",
          address :is ["to", "cc"] "me@work.example") {
    fileinto "Work";
    stop;
}
# R34
if envelope :is "to" "me@work.example" {
    fileinto "Work";
    stop;
}
# R35
if header :contains "subject" ["[project-x]", "[ops]", "standup"] {
    fileinto "Work";
    stop;
}
# R36
if address :domain :is "from" ["partner.example", "customer.example"] {
    fileinto "Work";
    stop;
}

# ---- Family and friends -------------------------------------------------------
# R37
if address :is "from" ["mum@family.example", "dad@family.example", "sis@family.example"] {
    fileinto "Family";
    stop;
}
# R38
if address :domain :is "from" "family.example" {
    fileinto "Family";
    stop;
}
# R39
if header :contains "subject" ["birthday", "holiday photos", "Sunday lunch"] {
    fileinto "Family";
    stop;
}

# ---- Social -------------------------------------------------------------------
# R40
if address :domain :is "from" ["social.example", "photos.example", "forum.example"] {
    fileinto :flags "\\Seen" "Social";
    stop;
}
# R41
if header :matches "subject" "* mentioned you*" {
    fileinto "Social";
    stop;
}

# ---- Travel and shopping --------------------------------------------------
# R42
if header :contains "subject" ["boarding pass", "booking confirmation", "itinerary"] {
    addflag "\\Flagged";
    fileinto "Travel";
    stop;
}
# R43
if address :domain :is "from" ["airline.example", "rail.example", "hotels.example"] {
    fileinto "Travel";
    stop;
}
# R44
if header :contains "subject" ["has shipped", "out for delivery", "order confirmation"] {
    fileinto "Shopping";
    stop;
}
# R45
if address :domain :is "from" "shop.example" {
    fileinto "Shopping";
    stop;
}

# ---- Whatever stays in INBOX ------------------------------------------------
# R46
if size :over 19500 {
    addflag "Big";
}
# R47
if header :contains "Importance" "high" {
    addflag "\\Flagged";
}
# R48
if header :is "X-Priority" ["1", "1 (Highest)"] {
    addflag "\\Flagged";
}
# R49
if not exists "Message-ID" {
    addflag "NoMessageID";
}
# R50
if address :is ["to", "cc"] "me@example.org" {
    addflag "Direct";
}

keep;
