#!/bin/sh
# Releases that go out in waves, against the capturing sink and a real
# `herald run`: a pre-briefing (the `prebrief` lists get it early, marked
# "EMBARGOED until <the lift in their zone>", everyone else unmarked at the
# lift; an address on both once, early), and deliver_local (each reader at
# a time of day in their own zone, kept in the journal across a restart of
# the daemon). Times are a few seconds ahead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

# wait_for N DIR [SECONDS]: until the sink has N messages.
wait_for() {
	_i=0
	while [ "$(received "$2")" -lt "$1" ] && [ $_i -lt $((${3:-10} * 20)) ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ "$(received "$2")" -ge "$1" ]
}
iso_at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

S="$SCRATCH/sink"
start_sink "$S"
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2"
echo "tz: Europe/Madrid" >>"$P/config/herald.yaml"
cat >"$P/templates/card.yaml" <<'EOF'
subject: "{{release.title}}"
text: |
  {{#embargo.active}}EMBARGOED UNTIL {{embargo.local}} ({{embargo.until}}){{/embargo.active}}
  Dear {{subscriber.name}},
  {{release.body}}
html: |
  {{#embargo.active}}<p class="embargo">EMBARGOED UNTIL {{embargo.local}}</p>{{/embargo.active}}
  {{{release.body_html}}}
EOF
cat >"$P/lists/press.yaml" <<'EOF'
template: card
subscribers:
  - { email: paris@example.org, name: Paris, tz: Europe/Paris }
  - { email: york@example.org, name: York, tz: America/New_York }
  - { email: both@example.org, name: Both }
EOF
cat >"$P/lists/public.yaml" <<'EOF'
template: card
tz: Asia/Tokyo
subscribers:
  - { email: tokyo@example.org, name: Tokyo }
  - { email: both@example.org, name: Both }
  - { email: baires@example.org, name: Baires, tz: America/Argentina/Buenos_Aires }
EOF

# ---- check: bad pre-briefing and deliver_local, each at its place ----
cat >"$P/releases/bad.yaml" <<'EOF'
title: Bad
lists: [press]
prebrief:
  lists: [press, nowhere]
  at: 2030-01-01T00:00:00Z
deliver_local: "9am"
EOF
"$HERALD" -C "$P" check >"$SCRATCH/bad.out" 2>&1
st=$?
ok "$(test $st -eq 65; echo $?)" "check refuses a bad pre-briefing with 65 (got $st)"
grep -q "releases/bad.yaml:3:[0-9]*: .*'prebrief' needs an 'embargo'" "$SCRATCH/bad.out"
ok $? "a pre-briefing without an embargo is an error at its line"
grep -q "releases/bad.yaml:4:[0-9]*: pre-briefing list 'nowhere' is not one of the release's 'lists'" "$SCRATCH/bad.out"
ok $? "a pre-briefing list the release does not go to is an error at its line and column"
grep -q "releases/bad.yaml:6:16: 'deliver_local' is not a time of day" "$SCRATCH/bad.out"
ok $? "deliver_local that is no HH:MM is an error at its line and column"
diag <"$SCRATCH/bad.out"
cat >"$P/releases/bad.yaml" <<'EOF'
title: Bad
lists: [press]
embargo: 2030-01-01T09:00:00Z
prebrief: { lists: [press], at: 2030-01-01T10:00:00Z }
EOF
"$HERALD" -C "$P" check >"$SCRATCH/bad.out" 2>&1
st=$?
ok "$(test $st -eq 65 && grep -q "releases/bad.yaml:4:[0-9]*: 'prebrief.at' is not before 'embargo'" \
	"$SCRATCH/bad.out"; echo $?)" "a pre-briefing after the lift is an error (got $st)"
diag <"$SCRATCH/bad.out"
rm "$P/releases/bad.yaml"

# ---- pre-briefing: 3 s ahead; the lift 8 s ahead ----
T0=$(date +%s)
AT=$((T0 + 3)) LIFT=$((T0 + 8))
cat >"$P/releases/news.yaml" <<EOF
title: Big news
lists: [public, press]
embargo: $(iso_at $LIFT)
prebrief:
  lists: [press]
  at: $(iso_at $AT)
body: |
  Something happened.
EOF
"$HERALD" -C "$P" send news >"$SCRATCH/early.out" 2>&1
st=$?
ok "$(test $st -eq 75 && grep -q "pre-briefing starts at $(iso_at $AT)" "$SCRATCH/early.out" &&
	test ! -e "$P/state/herald.db" -o -z "$(sql "$P/state/herald.db" 'SELECT 1 FROM releases' 2>/dev/null)"; echo $?)" \
	"send before the pre-briefing: 75, says when it starts, records nothing (got $st)"
diag <"$SCRATCH/early.out"
"$HERALD" -C "$P" send news --dry-run >"$SCRATCH/dry.out" 2>&1
grep -q "3 of them pre-briefed (marked EMBARGOED), the other 2 at the lift" "$SCRATCH/dry.out"
ok $? "the dry run counts the two waves (an address on both lists once, early)"
diag <"$SCRATCH/dry.out"
HERALD_NOW=$(iso_at $T0) "$HERALD" -C "$P" preview news --list press --to paris@example.org \
	>"$SCRATCH/preview.eml" 2>"$SCRATCH/preview.err"
grep -q "^Subject: EMBARGOED until " "$SCRATCH/preview.eml"
ok $? "preview shows a pre-briefed reader the marked subject"
"$HERALD" -C "$P" schedule news >"$SCRATCH/sch.out" 2>&1
ok "$(test $? -eq 0 && grep -q "scheduled news for $(iso_at $AT)" "$SCRATCH/sch.out"; echo $?)" \
	"schedule without --at takes the pre-briefing's time"
diag <"$SCRATCH/sch.out"
LOG="$SCRATCH/run.log"
start_daemon "$P" "$LOG"
sleep 1
ok "$(test "$(received "$S")" = 0; echo $?)" "nothing goes out before the pre-briefing"
wait_for 3 "$S" 10
ok $? "at the pre-briefing's time its three readers get it"
sleep 1
ok "$(test "$(received "$S")" = 3; echo $?)" "and nobody else before the lift"
"$HERALD" -C "$P" status news >"$SCRATCH/status1.out" 2>&1
grep -q "pre-briefing: 3 of 3 sent" "$SCRATCH/status1.out" &&
	grep -q "public: 0 of 2 sent, 2 waiting until " "$SCRATCH/status1.out"
ok $? "status shows both waves between them"
diag <"$SCRATCH/status1.out"
wait_for 5 "$S" 12
ok $? "at the lift the public wave arrives"
sleep 1
"$HERALD" -C "$P" status news --json >"$SCRATCH/status2.json" 2>&1
stop_daemon

"$PY" - "$S" "$AT" "$LIFT" "$SCRATCH/status2.json" >"$SCRATCH/waves.checks" 2>&1 <<'PY'
import email, email.policy, glob, json, os, sys
from datetime import datetime
from zoneinfo import ZoneInfo
d, at, lift, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def local(zone):
    return datetime.fromtimestamp(lift, ZoneInfo(zone)).strftime("%a %-d %b %Y, %H:%M %Z")
zones = {"paris": "Europe/Paris", "york": "America/New_York", "both": "Europe/Madrid"}
got = {}
for eml in sorted(glob.glob(os.path.join(d, "*.eml"))):
    env = json.load(open(eml[:-4] + ".json"))
    m = email.message_from_bytes(open(eml, "rb").read(), policy=email.policy.default)
    who = env["rcpt_tos"][0].split("@")[0]
    got.setdefault(who, []).append((env["received_at"], m))
def check(name, cond):
    print("%s\t%d" % (name, 0 if cond else 1))
check("every reader once", sorted(got) == ["baires", "both", "paris", "tokyo", "york"] and
      all(len(v) == 1 for v in got.values()))
for who, zone in zones.items():
    t, m = got[who][0]
    want = "EMBARGOED until %s: Big news" % local(zone)
    check("%s: early (%.1f s before the lift), subject %r" % (who, lift - t, str(m["Subject"])),
          at - 0.5 <= t < lift and str(m["Subject"]) == want)
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    check("%s: the banner says the lift in %s, and its UTC time" % (who, zone),
          ("EMBARGOED UNTIL %s (%s)" % (local(zone), datetime.utcfromtimestamp(lift)
           .strftime("%Y-%m-%dT%H:%M:%SZ"))) in text and local(zone) in html)
for who in ("tokyo", "baires"):
    t, m = got[who][0]
    check("%s: at the lift, unmarked, no banner" % who, t >= lift and
          str(m["Subject"]) == "Big news" and "EMBARGOED" not in m.get_body(("plain",)).get_content())
check("Paris and New York see the lift in their own zones", local("Europe/Paris") != local("America/New_York"))
j = json.load(open(status))
waves = {w["wave"]: w for w in j["waves"]}
check("status --json: prebrief 3 of 3, public 2 of 2", waves["prebrief"]["sent"] == 3 and
      waves["prebrief"]["total"] == 3 and waves["public"]["sent"] == 2 and j["state"] == "done")
PY
ok_checks "$SCRATCH/waves.checks" "the two waves read back"

# ---- deliver_local: a reader a minute ahead, one an hour later; a restart between ----
rm -rf "$S" "$P/state"
start_sink "$S"
sed -i "s|url: smtp://127.0.0.1:[0-9]*|url: smtp://127.0.0.1:$PORT|" "$P/config/herald.yaml"
NOW=$(date +%s)
DUE=$(( (NOW + 15) / 60 * 60 + 60 ))
HM=$(date -u -d "@$DUE" +%H:%M)
cat >"$P/lists/local.yaml" <<'EOF'
template: card
subscribers:
  - { email: utc@example.org, name: UTC, tz: Etc/UTC }
  - { email: west@example.org, name: West, tz: Etc/GMT+1 }
  - { email: east@example.org, name: East, tz: Etc/GMT-1 }
EOF
cat >"$P/releases/local.yaml" <<EOF
title: Local news
lists: [local]
deliver_local: "$HM"
body: |
  At nine, wherever you are.
EOF
"$HERALD" -C "$P" schedule local --at "$(iso_at $((NOW + 2)))" >"$SCRATCH/sch2.out" 2>&1
ok $? "a deliver_local release is scheduled 2 s ahead"
: >"$LOG"
start_daemon "$P" "$LOG"
_i=0
while [ -z "$(sql "$P/state/herald.db" "SELECT 1 FROM deliveries d JOIN releases r ON r.id = d.release WHERE r.release_id = 'local'" 2>/dev/null)" ] &&
	[ $_i -lt 200 ]; do
	sleep 0.05; _i=$((_i + 1))
done
sleep 0.5
stop_daemon
ok "$(test "$(received "$S")" = 0; echo $?)" "expanded at its schedule, nobody mailed before their local time"
sql "$P/state/herald.db" "SELECT d.address, d.next_attempt FROM deliveries d JOIN releases r ON r.id = d.release WHERE r.release_id = 'local' ORDER BY d.address" >"$SCRATCH/due.tsv"
# $HM in UTC is $DUE; an hour west it comes an hour later; an hour east it
# was an hour earlier, already past: the next day's.
printf 'east@example.org\t%s\nutc@example.org\t%s\nwest@example.org\t%s\n' \
	$((DUE - 3600 + 86400)) "$DUE" $((DUE + 3600)) >"$SCRATCH/due.want"
is_file "$SCRATCH/due.tsv" "$SCRATCH/due.want" "each reader's due time is in the journal: their local $HM"
start_daemon "$P" "$LOG"
sleep 0.5
ok "$(test "$(received "$S")" = 0; echo $?)" "after a restart, still nobody before their time"
wait_for 1 "$S" $((DUE - $(date +%s) + 8))
T=$(date +%s.%N)
ok $? "the restarted daemon mails the reader whose local time came"
ok "$(awk -v t="$T" -v due="$DUE" 'BEGIN { exit !(t >= due) }'; echo $?)" "not before $HM UTC"
ok "$(head -1 "$S/log.tsv" | grep -q "utc@example.org"; echo $?)" "it is the reader in UTC"
sleep 1.5
ok "$(test "$(received "$S")" = 1; echo $?)" "the others wait for their own $HM"
"$HERALD" -C "$P" status local >"$SCRATCH/status3.out" 2>&1
grep -q "deliveries: 1 of 3 sent, 2 waiting from " "$SCRATCH/status3.out"
ok $? "status: one sent, two waiting, from when to when"
diag <"$SCRATCH/status3.out"
stop_daemon

done_testing
