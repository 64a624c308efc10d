#!/bin/sh
# smtp.c against real servers on 127.0.0.1: Postfix's smtp-sink with one
# injected fault at a time, and aiosmtpd for STARTTLS, implicit TLS and
# AUTH. Each outcome line of tests/tools/smtp-drive is
#   rcpt TAB result TAB cause TAB code TAB enhanced TAB text
. "$(dirname "$0")/lib.sh"
scratch

DRIVE=${HERALD_BUILD:-$TOP/build}/tools/smtp-drive
PY=/usr/bin/python3
if [ ! -x "$DRIVE" ] || ! command -v smtp-sink >/dev/null 2>&1 || ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs $DRIVE, smtp-sink (postfix) and aiosmtpd"
	exit 0
fi
TAB=$(printf '\t')
SINK_USER=""
[ "$(id -u)" -eq 0 ] && SINK_USER="-u nobody"

free_port() { "$PY" "$TOP/tests/tools/port.py" free; }

SINK_PID=""
stop_sink() {
	[ -n "$SINK_PID" ] || return 0
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=""
}
SERVER_PID=""
stop_all() {
	stop_sink
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$SCRATCH"
}
trap stop_all EXIT

# sink [SMTP-SINK OPTIONS...]: a fresh smtp-sink on $PORT, counters in $SCRATCH/sink.out
sink() {
	stop_sink
	PORT=$(free_port)
	# shellcheck disable=SC2086
	smtp-sink $SINK_USER -c "$@" "127.0.0.1:$PORT" 1000 >"$SCRATCH/sink.out" 2>&1 &
	SINK_PID=$!
	"$PY" "$TOP/tests/tools/port.py" wait "$PORT" || echo "# smtp-sink did not start" >&2
}

# drive NAME WANT [DRIVER OPTIONS AND RECIPIENTS...]: WANT is the lines'
# first five fields (rcpt result cause code enhanced), "|" between lines.
drive() {
	name=$1 want=$2
	shift 2
	"$DRIVE" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	cat "$SCRATCH/err" >>"$SCRATCH/all-err"
	cut -f1-5 "$SCRATCH/out" | tr '\t' ' ' >"$SCRATCH/got"
	echo "$want" | tr '|' '\n' >"$SCRATCH/want"
	is_file "$SCRATCH/got" "$SCRATCH/want" "$name"
}
text_is() { # text_is LINE WANT NAME
	got=$(sed -n "$1p" "$SCRATCH/out" | cut -f6)
	[ "$got" = "$2" ]
	ok $? "$3"
	[ "$got" = "$2" ] || echo "got '$got'" | diag
}

A=a@example.org
B=b@example.org

# ---- smtp-sink faults ----
sink
drive "no fault: 250 after the dot" \
    "$A OK REPLY 250 2.0.0|$B OK REPLY 250 2.0.0" -u "smtp://127.0.0.1:$PORT" "$A" "$B"

sink -r RCPT
drive "-r RCPT: 450 4.3.0 is TEMPFAIL" \
    "$A TEMPFAIL REPLY 450 4.3.0|$B TEMPFAIL REPLY 450 4.3.0" -u "smtp://127.0.0.1:$PORT" "$A" "$B"
text_is 1 "Error: command failed" "-r RCPT: the server's text"

sink -r RCPT -b '452 4.2.2 mailbox full'
drive "-r RCPT -b: 452 4.2.2" "$A TEMPFAIL REPLY 452 4.2.2" -u "smtp://127.0.0.1:$PORT" "$A"
text_is 1 "mailbox full" "-r RCPT -b: text without code and enhanced code"

sink -f RCPT
drive "-f RCPT: 500 5.3.0 is PERMFAIL" "$A PERMFAIL REPLY 500 5.3.0" -u "smtp://127.0.0.1:$PORT" "$A"

sink -f .
drive "-f .: 500 after the dot (curl 8) is PERMFAIL" \
    "$A PERMFAIL REPLY 500 5.3.0|$B PERMFAIL REPLY 500 5.3.0" -u "smtp://127.0.0.1:$PORT" "$A" "$B"

sink -r .
drive "-r .: 450 after the dot (curl 8) is TEMPFAIL" \
    "$A TEMPFAIL REPLY 450 4.3.0" -u "smtp://127.0.0.1:$PORT" "$A"

sink -Q MAIL
drive "-Q MAIL: 421 and hang-up" \
    "$A TEMPFAIL REPLY 421 4.0.0|$B TEMPFAIL REPLY 421 4.0.0" -u "smtp://127.0.0.1:$PORT" "$A" "$B"

sink -q DATA
drive "-q DATA: hang-up, the stale 250 is not trusted" \
    "$A TEMPFAIL LOST 0 |$B TEMPFAIL LOST 0 " -u "smtp://127.0.0.1:$PORT" "$A" "$B"

sink -q .
drive "-q .: hang-up after the dot is LOST (re-sent later)" \
    "$A TEMPFAIL LOST 0 " -u "smtp://127.0.0.1:$PORT" "$A"

sink -f CONNECT
drive "-f CONNECT: a refused greeting refuses the session, not the message" \
    "$A TEMPFAIL CONNECT 500 5.3.0" -u "smtp://127.0.0.1:$PORT" "$A"

sink -Q CONNECT
drive "-Q CONNECT: 421 greeting" "$A TEMPFAIL CONNECT 421 4.0.0" -u "smtp://127.0.0.1:$PORT" "$A"

sink -f EHLO,HELO
drive "-f EHLO,HELO: refused EHLO and HELO" \
    "$A TEMPFAIL CONNECT 500 5.3.0" -u "smtp://127.0.0.1:$PORT" "$A"

sink
drive "opportunistic TLS without STARTTLS: plain" \
    "$A OK REPLY 250 2.0.0" -u "smtp://127.0.0.1:$PORT" -t opportunistic "$A"
drive "required TLS without STARTTLS: TEMPFAIL TLS" \
    "$A TEMPFAIL TLS 0 " -u "smtp://127.0.0.1:$PORT" -t required "$A"
drive "a recipient with CR LF is refused before any transfer" \
    "$A OK REPLY 250 2.0.0|$(printf 'x@example.org\rRSET') PERMFAIL REPLY 0 5.1.3|$B OK REPLY 250 2.0.0" \
    -u "smtp://127.0.0.1:$PORT" "$A" "$(printf 'x@example.org\rRSET')" "$B"

dead=$(free_port)
drive "nothing listening: TEMPFAIL CONNECT" "$A TEMPFAIL CONNECT 0 " -u "smtp://127.0.0.1:$dead" -T 2 "$A"
grep -q "Failed to connect" "$SCRATCH/out"
ok $? "and curl's own words for it"

# ---- silence: timeouts are LOST ----
# libcurl waits up to the timeout for the reply to DATA, then as long again
# for the reply to the QUIT it sends before closing: 4 s, well before 10.
sink -w 10
t0=$(date +%s%N)
drive "-w 10 (DATA answered late), timeout 2: LOST" "$A TEMPFAIL LOST 0 " \
    -u "smtp://127.0.0.1:$PORT" -T 2 "$A"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 7000 ]
ok $? "and the driver gave up in time, not waiting for the server (${ms} ms)"

sink -W CONNECT:5
drive "-W CONNECT:5 (silent greeting), timeout 1: LOST" "$A TEMPFAIL LOST 0 " \
    -u "smtp://127.0.0.1:$PORT" -T 1 "$A"

# After a timeout on the final dot the connection's state is unknown: the
# next message must not go on it (libcurl 7.88.1 would reuse it and read
# the late reply to the old dot as the reply to the new MAIL FROM).
sink -W .:2
drive "-W .:2, timeout 1: both messages LOST, none desynchronised" \
    "$A TEMPFAIL LOST 0 |$B TEMPFAIL LOST 0 " -u "smtp://127.0.0.1:$PORT" -T 1 "$A" "$B"
! grep -q "DATA failed" "$SCRATCH/out"
ok $? "the second message went on a new connection"

# ---- connection reuse ----
sink
"$DRIVE" -u "smtp://127.0.0.1:$PORT" -c 4 -n 200 -s 2000 -q "$A" "$B" 2>"$SCRATCH/err"
ok $? "200 messages over 4 connections: all sent"
cat "$SCRATCH/err" >>"$SCRATCH/all-err"
diag < "$SCRATCH/err"
sleep 0.3
# sess= counts finished sessions, the readiness probe among them.
last=$(tr '\r' '\n' <"$SCRATCH/sink.out" | grep 'sess=' | tail -1)
sess=$(echo "$last" | sed -n 's/.*sess=\([0-9]*\).*/\1/p')
mesg=$(echo "$last" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p')
[ "${mesg:-0}" -eq 200 ]
ok $? "smtp-sink counted 200 messages (mesg=$mesg)"
[ -n "$sess" ] && [ $((sess - 1)) -le 4 ]
ok $? "over 4 connections, each reused (sessions: $((${sess:-0} - 1)))"
stop_sink

# ---- TLS and AUTH: aiosmtpd ----
cat > "$SCRATCH/server.py" <<'PY'
import os, signal, ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, starttls_port, smtps_port, spool = sys.argv[1:6]

class Keep:
    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            with open(os.path.join(spool, rcpt), "wb") as f:
                f.write(envelope.original_content)
        return "250 2.0.0 kept"

def login(server, session, envelope, mechanism, data):
    good = isinstance(data, LoginPassword) and data.login == b"press" \
        and data.password == b"s3cret-Pw!"
    return AuthResult(success=good, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
starttls = Controller(Keep(), hostname="127.0.0.1", port=int(starttls_port),
                      tls_context=ctx, authenticator=login, auth_required=False)
implicit = Controller(Keep(), hostname="127.0.0.1", port=int(smtps_port),
                      ssl_context=ctx)
starttls.start()
implicit.start()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
try:
    while True:
        time.sleep(3600)
finally:
    starttls.stop()
    implicit.stop()
PY
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" 2>/dev/null
mkdir -p "$SCRATCH/spool"
P1=$(free_port)
P2=$(free_port)
"$PY" "$SCRATCH/server.py" "$SCRATCH/cert.pem" "$SCRATCH/key.pem" "$P1" "$P2" "$SCRATCH/spool" \
    </dev/null >"$SCRATCH/server.log" 2>&1 &
SERVER_PID=$!
"$PY" "$TOP/tests/tools/port.py" wait "$P1" && "$PY" "$TOP/tests/tools/port.py" wait "$P2"
ok $? "aiosmtpd listens (STARTTLS on $P1, implicit TLS on $P2)"

CA="$SCRATCH/cert.pem"
drive "STARTTLS required, verified against ca_file: OK" \
    "$A OK REPLY 250 2.0.0" -u "smtp://127.0.0.1:$P1" -t required -a "$CA" "$A"
grep -q '^\.a line that starts with a dot' "$SCRATCH/spool/$A"
ok $? "the message arrived, its leading dot intact"
drive "STARTTLS required, no ca_file: the certificate is refused" \
    "$A TEMPFAIL TLS 0 " -u "smtp://127.0.0.1:$P1" -t required "$A"
drive "STARTTLS with ca_file and localhost as host name: OK" \
    "$A OK REPLY 250 2.0.0" -u "smtp://localhost:$P1" -t required -a "$CA" "$A"
drive "opportunistic, the certificate still verified: refused without ca_file" \
    "$A TEMPFAIL TLS 0 " -u "smtp://127.0.0.1:$P1" -t opportunistic "$A"
drive "implicit TLS (smtps://) with ca_file: OK" \
    "$A OK REPLY 250 2.0.0" -u "smtps://127.0.0.1:$P2" -a "$CA" "$A"
drive "implicit TLS without ca_file: TEMPFAIL TLS" \
    "$A TEMPFAIL TLS 0 " -u "smtps://127.0.0.1:$P2" "$A"

SMTP_DRIVE_PASSWORD='s3cret-Pw!' drive "AUTH over STARTTLS: OK" \
    "$A OK REPLY 250 2.0.0" -u "smtp://127.0.0.1:$P1" -t required -a "$CA" -U press "$A"
SMTP_DRIVE_PASSWORD='wrong-Pw!' drive "AUTH refused: TEMPFAIL AUTH 535" \
    "$A TEMPFAIL AUTH 535 5.7.8|$B TEMPFAIL AUTH 535 5.7.8" \
    -u "smtp://127.0.0.1:$P1" -t required -a "$CA" -U press "$A" "$B"
! grep -q 'Pw!' "$SCRATCH/out" "$SCRATCH/err"
ok $? "the password is never printed"

# With a sanitizer build (make asan) any report lands on stderr.
! grep -E 'Sanitizer|runtime error' "$SCRATCH/all-err" >"$SCRATCH/san"
ok $? "no sanitizer reports"
diag < "$SCRATCH/san"

done_testing
