#!/bin/sh
# GET /metrics on `herald run`'s http listener, read by a real Prometheus
# parser (Debian's python3-prometheus-client): a `herald send` process
# beside the daemon sends to three recipients, the sink taking one,
# deferring one (450) and refusing one (550), and the counters move by
# exactly that; a bounce, an unsubscribe, an auto-reply and human mail read
# by `herald poll` while the daemon is stopped are counted too, and the
# restarted daemon shows everything the journal counted before; a release
# the daemon sends itself counts its skipped and deferred rows; http
# requests are counted by status (the scrapes included), in the daemon's
# memory; POST /metrics is 405.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"
. "$(dirname "$0")/imap-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
if ! "$PY" -c 'import prometheus_client.parser' 2>/dev/null; then
	echo "1..0 # SKIP needs python3-prometheus-client for $PY"
	exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP needs curl"
	exit 0
fi

# prom.py scrape URL OUT: GET URL, parse it, keep its families and samples (JSON) in OUT.
# prom.py delta A B [KEY=N]...: every counter sample moved from A to B by N
#   (0 when not named); mismatches printed, exit 1. Keys look like
#   herald_deliveries_total{state=sent}.
# prom.py value A KEY: a sample's value ("absent" when A has none).
cat >"$SCRATCH/prom.py" <<'PY'
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families

def key(s):
    return s.name + "{" + ",".join("%s=%s" % kv for kv in sorted(s.labels.items())) + "}"

cmd = sys.argv[1]
if cmd == "scrape":
    with urllib.request.urlopen(sys.argv[2], timeout=10) as r:
        ctype = r.headers.get("Content-Type")
        text = r.read().decode("utf-8")
    fams, samples = {}, {}
    for f in text_string_to_metric_families(text):
        fams[f.name] = [f.type, f.documentation]
        for s in f.samples:
            if key(s) in samples:
                raise SystemExit("a sample twice: " + key(s))
            samples[key(s)] = s.value
    json.dump({"ctype": ctype, "families": fams, "samples": samples, "text": text},
              open(sys.argv[3], "w"))
elif cmd == "delta":
    a = json.load(open(sys.argv[2]))["samples"]
    b = json.load(open(sys.argv[3]))["samples"]
    want = dict((k, float(v)) for k, v in (arg.rsplit("=", 1) for arg in sys.argv[4:]))
    bad = 0
    for k in sorted(set(a) | set(b) | set(want)):
        if not k.split("{")[0].endswith("_total"):
            continue
        moved = b.get(k, 0) - a.get(k, 0)
        if moved != want.get(k, 0):
            print("%s moved by %g, expected %g" % (k, moved, want.get(k, 0)))
            bad = 1
    sys.exit(bad)
elif cmd == "value":
    v = json.load(open(sys.argv[2]))["samples"].get(sys.argv[3])
    print("absent" if v is None else "%g" % v)
PY
scrape() { "$PY" "$SCRATCH/prom.py" scrape "http://127.0.0.1:$HPORT/metrics" "$SCRATCH/$1.json" 2>"$SCRATCH/$1.err"; }
# moved A B NAME [KEY=N]...: a test that exactly those counters moved from scrape A to B.
moved() {
	_a=$1 _b=$2 _name=$3; shift 3
	"$PY" "$SCRATCH/prom.py" delta "$SCRATCH/$_a.json" "$SCRATCH/$_b.json" "$@" >"$SCRATCH/delta.out" 2>&1
	ok $? "$_name"
	diag <"$SCRATCH/delta.out"
}
value() { "$PY" "$SCRATCH/prom.py" value "$SCRATCH/$1.json" "$2"; }
D=herald_deliveries_total R=herald_smtp_replies_total MB=herald_mailbox_messages_total
H=herald_http_requests_total
iso_in() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

S="$SCRATCH/sink"
start_sink "$S" --defer-rcpt '^user0002@' --reject-rcpt '^user0003@'
ok $? "the capturing sink starts (450 for user0002, 550 for user0003)"
start_dovecot
ok $? "dovecot starts"
HPORT=$(free_port)
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2"
printf 'http:\n  listen: 127.0.0.1:%s\n' "$HPORT" >>"$P/config/herald.yaml"
herald_imap_config imaps >>"$P/config/herald.yaml"
gen_list "$P/lists/a.yaml" 1 3
LOG="$SCRATCH/run.log" LOG2="$SCRATCH/run2.log"

start_daemon "$P" "$LOG"
scrape s0
ok $? "a scrape of a new journal is read by the Prometheus parser"
diag <"$SCRATCH/s0.err"
"$PY" - "$SCRATCH/s0.json" >"$SCRATCH/fam.out" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
want = {"herald_deliveries": "counter", "herald_smtp_replies": "counter",
        "herald_mailbox_messages": "counter", "herald_http_requests": "counter",
        "herald_deliveries_queued": "gauge", "herald_deliveries_deferred": "gauge"}
got = dict((k, v[0]) for k, v in j["families"].items())
if got != want:
    sys.exit("families: %r" % got)
for k, v in j["families"].items():
    if len(v[1]) < 20:
        sys.exit("%s: no HELP" % k)
if not j["ctype"].startswith("text/plain; version=0.0.4"):
    sys.exit("Content-Type: %s" % j["ctype"])
bad = [k for k, v in j["samples"].items() if v != 0]
if bad:
    sys.exit("not 0: %r" % bad)
if len(j["samples"]) != 16:
    sys.exit("%d samples" % len(j["samples"]))
PY
ok $? "six families (four counters, two gauges), each with HELP, text/plain version 0.0.4; all 16 samples 0"
diag <"$SCRATCH/fam.out"

# ---- a send from another process, beside the daemon ----
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1
ok "$(test "$(counts "$P")" = "0 0 1 1 1 0 0"; echo $?)" \
	"herald send: 1 sent, 1 deferred, 1 failed (got $(counts "$P"))"
diag <"$SCRATCH/send.out"
scrape s1
moved s0 s1 "the counters moved by the send's outcomes and the first scrape, nothing else" \
	"$D{state=sent}=1" "$D{state=deferred}=1" "$D{state=failed}=1" \
	"$R{class=2xx}=1" "$R{class=4xx}=1" "$R{class=5xx}=1" "$H{code=200}=1"
ok "$(test "$(value s1 herald_deliveries_queued{})/$(value s1 herald_deliveries_deferred{})" = 0/1; echo $?)" \
	"the gauges: 0 queued, 1 deferred"

# ---- the mailbox, read by herald poll while the daemon is stopped ----
stop_daemon
ok "$(test "$DAEMON_STATUS" = 0; echo $?)" "the daemon stops (exit 0)"
E1=$(grep -l '^To: .*user0001@' "$S"/*.eml | head -1)
V1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["mail_from"])' "${E1%.eml}.json")
M1=$(sed -n 's/^Message-ID: <\(.*\)>\r*$/\1/p' "$E1" | head -1)
M="$SCRATCH/msgs"
mkdir -p "$M"
cat >"$M/1-dsn.eml" <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: $V1
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; user0001@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <user0001@example.org>: User unknown

--B--
EOF
cat >"$M/2-request.eml" <<EOF
From: Person 0009 <user0009@example.org>
To: desk@news.example
Subject: please remove me
Message-ID: <request2@example.org>

Thanks.
EOF
cat >"$M/3-vacation.eml" <<EOF
From: Person 0001 <user0001@example.org>
To: bounces@news.example
Subject: Out of office: Quarterly news
Message-ID: <vacation3@example.org>
Auto-Submitted: auto-replied
In-Reply-To: <$M1>

I am away until Monday.
EOF
cat >"$M/4-question.eml" <<EOF
From: Person 0001 <user0001@example.org>
To: desk@news.example
Subject: Re: Quarterly news
Message-ID: <question4@example.org>
In-Reply-To: <$M1>

Who speaks on the second day?
EOF
for f in "$M"/*.eml; do imap_append "$f"; done
"$HERALD" -C "$P" poll >"$SCRATCH/poll.out" 2>&1
ok $? "herald poll reads the four messages"
diag <"$SCRATCH/poll.out"

start_daemon "$P" "$LOG2"
scrape s2
moved s1 s2 "after a restart: the poll's four kinds and the bounced delivery, the send's counts kept; the http counter started again" \
	"$MB{kind=bounce}=1" "$MB{kind=unsubscribe}=1" "$MB{kind=auto-reply}=1" "$MB{kind=human}=1" \
	"$D{state=bounced}=1" "$H{code=200}=-1"
ok "$(test "$(value s2 "$D{state=sent}")/$(value s2 "$R{class=5xx}")/$(value s2 "$H{code=200}")" = 1/1/absent; echo $?)" \
	"the journal's counts are as before the restart; no request counted yet by the new daemon"

# ---- the daemon sends: user0001 (bounced) and user0003 (550) are suppressed ----
sed 's/^title: .*/title: Second news/' "$P/releases/news.yaml" >"$P/releases/second.yaml"
"$HERALD" -C "$P" schedule second --at "$(iso_in 0)" >"$SCRATCH/sch.out" 2>&1
ok $? "second is scheduled for now"
diag <"$SCRATCH/sch.out"
kill -HUP "$DAEMON_PID"
i=0
until [ "$("$HERALD" -C "$P" status second --json 2>/dev/null | "$PY" -c '
import json, sys
j = json.load(sys.stdin)
print(j["deferred"] + j["skipped"])' 2>/dev/null)" = 3 ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
scrape s3
moved s2 s3 "the daemon's own send: 2 skipped, 1 deferred (a 4xx), and the scrape before" \
	"$D{state=skipped}=2" "$D{state=deferred}=1" "$R{class=4xx}=1" "$H{code=200}=1"
ok "$(test "$(value s3 herald_deliveries_queued{})/$(value s3 herald_deliveries_deferred{})" = 0/2; echo $?)" \
	"the gauges: 0 queued, 2 deferred"

# ---- http requests by status ----
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 10 "http://127.0.0.1:$HPORT/metrics")
h=$(curl -s -o /dev/null -D - --max-time 10 -X POST "http://127.0.0.1:$HPORT/metrics" | tr -d '\r' |
	sed -n 's/^Allow: //Ip')
ok "$(test "$c" = 405 && test "$h" = "GET, HEAD"; echo $?)" "POST /metrics: 405, Allow: GET, HEAD (got $c, '$h')"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$HPORT/metricsx")
ok "$(test "$c" = 404; echo $?)" "GET /metricsx: 404 (got $c)"
c=$(curl -s -o /dev/null -w '%{http_code}' -I --max-time 10 "http://127.0.0.1:$HPORT/metrics")
ok "$(test "$c" = 200; echo $?)" "HEAD /metrics: 200 (got $c)"
scrape s4
moved s3 s4 "http: two 405s, one 404, and the HEAD and the scrape before as 200s" \
	"$H{code=405}=2" "$H{code=404}=1" "$H{code=200}=2"

grep -E 'user000[0-9]@|/unsubscribe/' "$SCRATCH"/s*.json >/dev/null
ok "$(test $? -eq 1; echo $?)" "no scrape names an address or a token"
stop_daemon
ok "$(test "$DAEMON_STATUS" = 0; echo $?)" "the daemon stops (exit 0)"
grep -q 'error' "$LOG" "$LOG2" && cat "$LOG" "$LOG2" | diag

done_testing
