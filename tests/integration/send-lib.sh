# Shared by the send*.t tests (sourced after lib.sh): servers on free
# 127.0.0.1 ports, stopped by PID at exit whatever happens; scratch
# projects; the journal read with /usr/bin/python3's sqlite3 module (no
# sqlite3 CLI needed).
PY=/usr/bin/python3
SINK_PY="$TOP/tests/tools/sink.py"
SINK_USER=""
[ "$(id -u)" -eq 0 ] && SINK_USER="-u nobody"

scratch
SERVER_PIDS=""
cleanup() {
	for p in $SERVER_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $SERVER_PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() { "$PY" "$TOP/tests/tools/port.py" free; }

# forget_pid PID: no longer ours to stop.
forget_pid() {
	_keep=""
	for _p in $SERVER_PIDS; do
		[ "$_p" = "$1" ] || _keep="$_keep $_p"
	done
	SERVER_PIDS=$_keep
}

# start_sink DIR [SINK.PY OPTIONS...]: the capturing sink on a free port ($PORT), PID in $SINK_PID.
start_sink() {
	_dir=$1; shift
	PORT=$(free_port)
	mkdir -p "$_dir"
	"$PY" "$SINK_PY" --port "$PORT" --dir "$_dir" "$@" >"$_dir.out" 2>&1 &
	SINK_PID=$!
	SERVER_PIDS="$SERVER_PIDS $SINK_PID"
	_i=0
	while [ ! -s "$_dir/sink.pid" ] && [ $_i -lt 200 ]; do
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.05; _i=$((_i + 1))
	done
	if [ ! -s "$_dir/sink.pid" ]; then
		echo "# sink.py did not start:"; diag <"$_dir.out"
		return 1
	fi
}

# ok_checks FILE WHAT: a test for each "NAME<TAB>0|1" line of FILE, what a
# checking script printed; any other line (the script failed) fails WHAT
# and shows FILE.
ok_checks() {
	while IFS='	' read -r _name _res; do
		case $_res in
		0 | 1) ok "$_res" "$_name" ;;
		*) ok 1 "$2"; diag <"$1"; break ;;
		esac
	done <"$1"
}

# stop_pid PID: SIGTERM, then wait for it.
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget_pid "$1"
}

# start_smtp_sink [SMTP-SINK OPTIONS...]: Postfix's smtp-sink on a free port ($PORT), PID in $SMTP_SINK_PID.
start_smtp_sink() {
	PORT=$(free_port)
	# shellcheck disable=SC2086
	smtp-sink $SINK_USER "$@" "127.0.0.1:$PORT" 1000 >"$SCRATCH/smtp-sink.$PORT.out" 2>&1 &
	SMTP_SINK_PID=$!
	SERVER_PIDS="$SERVER_PIDS $SMTP_SINK_PID"
	"$PY" "$TOP/tests/tools/port.py" wait "$PORT" || { echo "# smtp-sink did not start"; return 1; }
}

# project DIR PORT [MORE SMTP LINES...]: a small valid project sending to
# 127.0.0.1:PORT, with template "card" (name and org personalised) and
# release "news" on lists [a]; the caller writes lists/*.yaml.
project() {
	_dir=$1 _port=$2; shift 2
	mkdir -p "$_dir/config" "$_dir/lists" "$_dir/templates/partials" "$_dir/releases"
	{
		cat <<EOF
sender:
  from: "Test Desk <desk@news.example>"
  domain: news.example
  bounce_address: bounces@news.example
  unsubscribe_address: unsubscribe@news.example
smtp:
  url: smtp://127.0.0.1:$_port
EOF
		for _l in "$@"; do
			echo "  $_l"
		done
	} >"$_dir/config/herald.yaml"
	cat >"$_dir/templates/card.yaml" <<'EOF'
subject: "{{release.title}}"
text: |
  Dear {{subscriber.name}},
  Org: {{subscriber.org}}

  {{release.body}}
  {{> footer}}
html: |
  <p>Dear {{subscriber.name}} ({{subscriber.org}})</p>
  {{{release.body_html}}}
EOF
	echo 'Unsubscribe: {{unsubscribe.mailto}}' >"$_dir/templates/partials/footer.mustache"
	cat >"$_dir/releases/news.yaml" <<'EOF'
title: Quarterly news
lists: [a]
body: |
  Something happened.
EOF
}

# gen_list FILE FROM TO [LOCAL-FORMAT [DOMAIN]]: subscribers FROM..TO,
# email sprintf(LOCAL-FORMAT, i)@DOMAIN, name "Person %04d", org "Org %04d".
gen_list() {
	awk -v from="$2" -v to="$3" -v fmt="${4:-user%04d}" -v dom="${5:-example.org}" 'BEGIN {
		print "name: Generated"
		print "template: card"
		print "subscribers:"
		for (i = from; i <= to; i++) {
			printf "  - email: " fmt "@%s\n", i, dom
			printf "    name: Person %04d\n", i
			printf "    org: Org %04d\n", i
		}
	}' >"$1"
}

# sql DB QUERY: rows, fields separated by tabs (read-only).
sql() {
	"$PY" - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
for row in db.execute(sys.argv[2]):
    print("\t".join("" if v is None else str(v) for v in row))
PY
}

# status_field DIR FIELD: one number (or the replies as "reply=count|...") from `herald status news --json`.
status_field() {
	"$HERALD" -C "$1" status news --json 2>/dev/null | "$PY" -c '
import json, sys
j = json.load(sys.stdin)
k = sys.argv[1]
if k == "replies":
    print("|".join("%s=%d" % (r["reply"], r["count"]) for r in j["replies"]))
else:
    print(j[k])' "$2"
}

# counts DIR: "queued sending sent deferred failed skipped bounced" from status --json.
counts() {
	"$HERALD" -C "$1" status news --json 2>/dev/null | "$PY" -c '
import json, sys
j = json.load(sys.stdin)
print(" ".join(str(j[k]) for k in ("queued", "sending", "sent", "deferred", "failed", "skipped", "bounced")))'
}

# received DIR: how many messages the capturing sink kept.
received() {
	if [ -f "$1/log.tsv" ]; then wc -l <"$1/log.tsv" | tr -d ' '; else echo 0; fi
}

# now: seconds since the epoch, with fractions.
now() { date +%s.%N; }
# elapsed T0 T1: T1 - T0, two decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

DAEMON_PID=""
# start_daemon DIR LOG: herald run in the background, $DAEMON_PID; returns
# once it logged that it started (or after 5 s).
start_daemon() {
	"$HERALD" -C "$1" run >>"$2" 2>&1 &
	DAEMON_PID=$!
	SERVER_PIDS="$SERVER_PIDS $DAEMON_PID"
	_i=0
	while ! grep -q "info run: started" "$2" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
}

# stop_daemon: SIGTERM and wait; its exit status in $DAEMON_STATUS.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
	DAEMON_STATUS=$?
	forget_pid "$DAEMON_PID"
}
