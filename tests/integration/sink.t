#!/bin/sh
# tests/tools/sink.py, the SMTP sink the other tests and the demo rely on:
# it keeps every message and its envelope, refuses and defers recipients
# as told, does STARTTLS and AUTH, and stops cleanly by its PID.
. "$(dirname "$0")/lib.sh"
scratch
SINK_PID=
# never leave a sink running, whatever fails
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; rm -rf "$SCRATCH"' EXIT
PY=/usr/bin/python3
SINK="$TOP/tests/tools/sink.py"

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sink DIR ARGS...: runs the sink in the background (SINK_PID) and waits for DIR/sink.pid.
start_sink() {
	dir=$1; shift
	PORT=$(free_port)
	$PY "$SINK" --port "$PORT" --dir "$dir" "$@" >"$dir.out" 2>&1 &
	SINK_PID=$!
	i=0
	while [ ! -s "$dir/sink.pid" ] && [ $i -lt 100 ]; do
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.05; i=$((i + 1))
	done
	[ -s "$dir/sink.pid" ] && [ "$(cat "$dir/sink.pid")" = "$SINK_PID" ]
}

# stop_sink DIR: SIGTERM by PID; the sink exits 0 and removes its pid file.
stop_sink() {
	kill -TERM "$SINK_PID"
	wait "$SINK_PID"
	st=$?
	[ "$st" -eq 0 ] && [ ! -e "$1/sink.pid" ]
}

# send FROM RCPT... < message: one SMTP transaction with curl (plus $CURL_EXTRA); its -v trace in $SCRATCH/curl.err.
CURL_EXTRA=
send() {
	from=$1; shift
	set -- $(for r in "$@"; do printf -- '--mail-rcpt %s ' "$r"; done)
	curl -sS -v --max-time 10 --url "smtp://127.0.0.1:$PORT/herald.test" \
	    --mail-from "$from" "$@" --upload-file - $CURL_EXTRA 2>"$SCRATCH/curl.err"
}

json() { # json FILE EXPR: a value from a sidecar, EXPR in Python over `j`
	$PY -c 'import json, sys, time; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

crlf() { sed 's/$/\r/'; }

D="$SCRATCH/sink"
start_sink "$D" --reject-rcpt '^nobody@' --reject-code 550 --reject-text '5.1.1 user unknown' \
    --defer-rcpt '^later@' --defer-code 451 --defer-text '4.7.1 slow down'
ok $? "the sink listens and writes its PID"
[ -s "$D/sink.pid" ] || cat "$D.out" | diag

printf 'From: press@ogp.example\nTo: ana@example.org\nSubject: one\n\nFirst message.\n' | crlf >"$SCRATCH/m1"
printf 'From: press@ogp.example\nSubject: two\n\nSecond,\nto two people.\n' | crlf >"$SCRATCH/m2"
printf 'From: press@ogp.example\nSubject: three\n\n.a line that starts with a dot\n..and two\n.\n' | crlf >"$SCRATCH/m3"
send bounces+a@ogp.example ana@example.org <"$SCRATCH/m1"
ok $? "message 1 accepted"
send bounces+b@ogp.example bob@example.net Carol@Example.COM <"$SCRATCH/m2"
ok $? "message 2, two recipients, accepted"
send bounces+c@ogp.example dan@example.org <"$SCRATCH/m3"
ok $? "message 3 accepted"

is_file "$D/000001.eml" "$SCRATCH/m1" "000001.eml is message 1, byte for byte"
is_file "$D/000002.eml" "$SCRATCH/m2" "000002.eml is message 2"
is_file "$D/000003.eml" "$SCRATCH/m3" "000003.eml is message 3, dots unstuffed"
[ "$(json "$D/000001.json" 'j["mail_from"]')" = "bounces+a@ogp.example" ]
ok $? "the envelope sender is kept"
[ "$(json "$D/000002.json" '",".join(j["rcpt_tos"])')" = "bob@example.net,Carol@Example.COM" ]
ok $? "every envelope recipient is kept, as given"
[ "$(json "$D/000003.json" '0 < time.time() - j["received_at"] < 60')" = True ] &&
    [ "$(json "$D/000003.json" 'j["peer"][0]')" = "127.0.0.1" ] &&
    [ "$(json "$D/000003.json" 'j["tls"]')" = False ]
ok $? "received_at is the time of arrival, peer and tls are recorded"
[ "$(wc -l <"$D/log.tsv")" -eq 3 ] &&
    [ "$(sed -n 2p "$D/log.tsv" | cut -f2-)" = "$(printf 'bounces+b@ogp.example\tbob@example.net,Carol@Example.COM')" ] &&
    sed -n 1p "$D/log.tsv" | grep -q '^[0-9]*\.[0-9]*	bounces+a@ogp.example	ana@example.org$'
ok $? "log.tsv: one line a message, received_at<TAB>mail_from<TAB>rcpt"

send bounces@ogp.example nobody@example.org <"$SCRATCH/m1"
st=$?
[ "$st" -ne 0 ] && grep -q '^< 550 5.1.1 user unknown' "$SCRATCH/curl.err"
ok $? "a rejected recipient gets 550 5.1.1 user unknown (curl exit $st)"
send bounces@ogp.example later@example.org <"$SCRATCH/m1"
[ $? -ne 0 ] && grep -q '^< 451 4.7.1 slow down' "$SCRATCH/curl.err"
ok $? "a deferred recipient gets 451 4.7.1 slow down"
[ ! -e "$D/000004.eml" ] && [ "$(wc -l <"$D/log.tsv")" -eq 3 ]
ok $? "nothing is kept for them"
[ -z "$(find "$D" -name '.*.tmp')" ]
ok $? "no temporary files are left"

stop_sink "$D"
ok $? "SIGTERM: the sink exits 0 and removes its pid file"

# Restarted on the same folder, it numbers on from the last message.
start_sink "$D"
send bounces@ogp.example ana@example.org <"$SCRATCH/m1"
[ -f "$D/000004.eml" ] && [ -f "$D/000004.json" ]
ok $? "a restarted sink numbers on: 000004"
stop_sink "$D"
ok $? "and stops again"

# STARTTLS and AUTH: no MAIL before AUTH, and AUTH only after STARTTLS.
if ! command -v openssl >/dev/null 2>&1; then
	echo "ok $((tap_n + 1)) # skip openssl is not installed"; tap_n=$((tap_n + 1))
else
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	    -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" 2>/dev/null
	printf 'sesame\n' >"$SCRATCH/pw"
	T="$SCRATCH/tls"
	start_sink "$T" --tls-cert "$SCRATCH/cert.pem" --tls-key "$SCRATCH/key.pem" \
	    --auth-user press --auth-password-file "$SCRATCH/pw"
	ok $? "the sink starts with STARTTLS and AUTH"
	CURL_EXTRA="--ssl-reqd --insecure --user press:sesame"
	send bounces@ogp.example ana@example.org <"$SCRATCH/m1"
	ok $? "STARTTLS and AUTH with the right password: accepted"
	[ "$(json "$T/000001.json" 'j["tls"], j["auth_user"]')" = "(True, 'press')" ]
	ok $? "the sidecar records tls and the authenticated user"
	CURL_EXTRA="--ssl-reqd --insecure --user press:wrong"
	send bounces@ogp.example ana@example.org <"$SCRATCH/m1"
	[ $? -ne 0 ] && grep -q '^< 535' "$SCRATCH/curl.err"
	ok $? "a wrong password: 535"
	CURL_EXTRA="--ssl-reqd --insecure"
	send bounces@ogp.example ana@example.org <"$SCRATCH/m1"
	[ $? -ne 0 ] && grep -q '^< 530' "$SCRATCH/curl.err"
	ok $? "no AUTH: MAIL refused with 530"
	[ ! -e "$T/000002.eml" ]
	ok $? "only the authenticated message is kept"
	stop_sink "$T"
	ok $? "the TLS sink stops cleanly"
fi

done_testing
