#!/bin/sh
# RFC 8058 one-click unsubscribe over real HTTP against `herald run`: the
# URL comes from the List-Unsubscribe header of a message really sent; a
# POST of List-Unsubscribe=One-Click suppresses exactly that subscriber for
# that message's list; GET shows a button and changes nothing; tampered
# tokens, other bodies, oversized bodies, other paths and methods change
# nothing; 500 concurrent requests (from 8 client addresses, as the
# endpoint takes only 16 connections at once from one) leave the
# suppressions exactly right;
# the log names no token and no address; SIGTERM still exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP needs curl"
	exit 0
fi


# suppressions: "address<TAB>list<TAB>reason" lines, sorted.
suppressions() { sql "$P/state/herald.db" "SELECT address, list, reason FROM suppressions ORDER BY 1, 2"; }
# code METHOD URL [CURL ARGS...]: the HTTP status, 000 when the connection failed.
code() {
	_m=$1 _u=$2; shift 2
	curl -s -o "$SCRATCH/body" -w '%{http_code}' -X "$_m" --max-time 10 "$@" "$_u"
}
# url RCPT LIST: the one-click URL of the message to RCPT from LIST.
url() { awk -F '\t' -v r="$1" -v l="$2" '$1 == r && $2 == l { print $3 }' "$SCRATCH/urls"; }
# tamper URL: the same URL with the token's last character changed.
tamper() { echo "$1" | sed 's/a$/b/; t; s/.$/a/'; }
# same: suppressions as they were at the last `mark`.
mark() { suppressions >"$SCRATCH/mark"; }
same() { suppressions | cmp -s - "$SCRATCH/mark"; }

BODY=List-Unsubscribe=One-Click
S="$SCRATCH/sink"
start_sink "$S"
HPORT=$(free_port)
P="$SCRATCH/p"
project "$P" "$PORT" "connections: 2"
sed -i "s#^  unsubscribe_address: .*#&\n  unsubscribe_url: http://127.0.0.1:$HPORT/unsubscribe/#" "$P/config/herald.yaml"
printf 'http:\n  listen: 127.0.0.1:%s\n' "$HPORT" >>"$P/config/herald.yaml"
gen_list "$P/lists/a.yaml" 1 10
gen_list "$P/lists/b.yaml" 1 3
sed 's/^lists: \[a\]/lists: [b]/; s/^title: .*/title: B news/' "$P/releases/news.yaml" \
	>"$P/releases/newsb.yaml"
LOG="$SCRATCH/run.log"

# ---- a real send first: delivery rows, tokens, and the headers ----
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>&1 &&
	"$HERALD" -C "$P" send newsb >>"$SCRATCH/send.out" 2>&1
ok $? "news to list a (10) and newsb to list b (3) are sent"
diag <"$SCRATCH/send.out"
"$PY" - "$S" >"$SCRATCH/urls" <<'PY'
import email, glob, re, sys
for path in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(path, "rb"))
    unsub = " ".join(str(m.get("List-Unsubscribe", "")).split())
    url = re.search(r"<(http://[^>]*)>", unsub)
    post = m.get("List-Unsubscribe-Post", "")
    lst = re.search(r"<([^.>]*)", str(m["List-Id"])).group(1)
    rcpt = email.utils.parseaddr(m["To"])[1]
    print("\t".join([rcpt, lst, url.group(1) if url and post == "List-Unsubscribe=One-Click" else "-"]))
PY
ok "$(test "$(grep -c 'http://127.0.0.1' "$SCRATCH/urls")" -eq 13; echo $?)" \
	"all 13 messages carry the one-click URL and List-Unsubscribe-Post"
U1A=$(url user0001@example.org a)
U2A=$(url user0002@example.org a)
U3A=$(url user0003@example.org a)
U3B=$(url user0003@example.org b)
diag <"$SCRATCH/urls"

start_daemon "$P" "$LOG"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null && grep -q "serving one-click unsubscribe on 127.0.0.1:$HPORT" "$LOG"; echo $?)" \
	"herald run serves the endpoint on 127.0.0.1:$HPORT"

# ---- GET: a page with one button, nothing changed ----
mark
c=$(code GET "$U1A")
ok "$(test "$c" = 200 && grep -q '<form method="post">' "$SCRATCH/body" &&
	grep -q 'name="List-Unsubscribe" value="One-Click"' "$SCRATCH/body" && same; echo $?)" \
	"GET: 200, a form that POSTs List-Unsubscribe=One-Click, nothing suppressed (got $c)"
c=$(code HEAD "$U1A" -I)
ok "$(test "$c" = 200 && same; echo $?)" "HEAD: 200, nothing suppressed (got $c)"

# ---- bodies other than List-Unsubscribe=One-Click: 400, nothing changed ----
n=0
for b in "List-Unsubscribe=one-click" "List-Unsubscribe=One-Click2" "list-unsubscribe=One-Click" \
	"List-Unsubscribe=" "List-Unsubscribe" "" "One-Click" "x=1&$BODY" "$BODY&$BODY" "$BODY&x=1"; do
	c=$(code POST "$U1A" --data-raw "$b")
	[ "$c" = 400 ] || { n=$((n + 1)); echo "# body '$b': $c"; }
done
c=$(code POST "$U1A" -F "List-Unsubscribe=One-Click;filename=x.txt")
[ "$c" = 400 ] || { n=$((n + 1)); echo "# a file part: $c"; }
c=$(code POST "$U1A" -F "List-Unsubscribe=One-Click, please")
[ "$c" = 400 ] || { n=$((n + 1)); echo "# multipart, another value: $c"; }
ok "$(test $n -eq 0 && same; echo $?)" "12 wrong bodies (urlencoded and multipart): 400 each, nothing suppressed"
c=$(code POST "$U1A" -H "Content-Type: text/plain" --data-raw "$BODY")
ok "$(test "$c" = 415 && same; echo $?)" "a body that is no form: 415, nothing suppressed (got $c)"

# ---- oversized: 413, or the connection closed, nothing changed ----
head -c 2000 /dev/zero | tr '\0' 'x' | sed "s/^/$BODY\&y=/" >"$SCRATCH/big"
c=$(code POST "$U1A" --data-binary @"$SCRATCH/big")
ok "$(test "$c" = 413 && same; echo $?)" "a 2 KB body: 413, nothing suppressed (got $c)"
c=$(code POST "$U1A" -H "Transfer-Encoding: chunked" --data-binary @"$SCRATCH/big")
ok "$(case $c in 413|000) same;; *) false;; esac; echo $?)" \
	"a 2 KB chunked body: 413 or a closed connection, nothing suppressed (got $c)"

# ---- tokens: tampered, re-encoded, foreign; paths and methods ----
base="http://127.0.0.1:$HPORT"
t1=$(tamper "$U1A")
tok1=${U1A##*/}
id_other=$(echo "$tok1" | sed 's/^b/c/; t; s/^./b/')	# another id, the same MAC
pct=$(echo "$U1A" | sed 's#/unsubscribe/\(.\)#/unsubscribe/%\1#')
n=0
for u in "$t1" "$base/unsubscribe/$id_other" "$U1A/" "$U1A.x" "${U1A%-*}-" "$base/unsubscribe/b-aaaaaaaaaaaaaaaa" \
	"$base/unsubscribe/" "$base/unsubscribe" "$base/" "$base/other/$tok1" "$pct" \
	"$base/unsubscribe/$(printf '%060d' 0 | tr 0 a)"; do
	c=$(code POST "$u" --data-raw "$BODY")
	[ "$c" = 404 ] || { n=$((n + 1)); echo "# POST $u: $c"; }
	c=$(code GET "$u")
	[ "$c" = 404 ] || { n=$((n + 1)); echo "# GET $u: $c"; }
done
ok "$(test $n -eq 0 && same; echo $?)" "12 forged tokens and wrong paths: 404 to POST and GET, nothing suppressed"
n=0
for m in PUT DELETE PATCH OPTIONS; do
	c=$(code "$m" "$U1A" --data-raw "$BODY")
	[ "$c" = 405 ] || { n=$((n + 1)); echo "# $m: $c"; }
done
allow=$(curl -s -o /dev/null -D - -X PUT "$U1A" | tr -d '\r' | sed -n 's/^Allow: //Ip')
ok "$(test $n -eq 0 && test "$allow" = "GET, HEAD, POST" && same; echo $?)" \
	"PUT, DELETE, PATCH, OPTIONS: 405 with Allow: GET, HEAD, POST, nothing suppressed"

# ---- request smuggling: ambiguous framing, malformed header lines: 400, closed ----
# raw REQUEST (a printf format): the status codes of the answers, then "closed" or "open".
raw() { printf "$1" | "$PY" "$TOP/tests/tools/rawhttp.py" "$HPORT" | tr '\n' ' ' | sed 's/ $//'; }
form='Host: h\r\nContent-Type: application/x-www-form-urlencoded\r\n'
forged="POST /unsubscribe/b-aaaaaaaaaaaaaaaa HTTP/1.1\r\n$form"
# The one-click POST of user0001's real token, hidden in the body of a POST with a forged one.
smug="POST /unsubscribe/$tok1 HTTP/1.1\r\n${form}Content-Length: 26\r\n\r\n$BODY"
slen=$(printf "$smug" | wc -c)
n=0
for r in \
	"${forged}Content-Length: 26\r\nContent-Length: $((26 + slen))\r\n\r\n$BODY$smug" \
	"${forged}Content-Length: $((26 + slen))\r\nContent-Length: 26\r\n\r\n$BODY$smug" \
	"${forged}Content-Length : $slen\r\n\r\n$smug" \
	"${forged}Content-Length: $((5 + slen))\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$smug" \
	"${forged}Transfer-Encoding: chunked\r\nContent-Length: $((5 + slen))\r\n\r\n0\r\n\r\n$smug"; do
	got=$(raw "$r")
	[ "$got" = "400 closed" ] || { n=$((n + 1)); printf "# %.60s...: %s\n" "$r" "$got"; }
done
ok "$(test $n -eq 0 && same; echo $?)" \
	"two Content-Lengths (either order), 'Content-Length :', Transfer-Encoding with Content-Length: 400, closed, nothing smuggled"
n=0
for h in "X Foo: 1" "X-Foo\t: 1" "X-Foo : 1" "X@Foo: 1" "X(Foo): 1" "X-Foo\001: 1"; do
	got=$(raw "GET /unsubscribe/$tok1 HTTP/1.1\r\nHost: h\r\n$h\r\n\r\n")
	[ "$got" = "400 closed" ] || { n=$((n + 1)); echo "# header line '$h': $got"; }
done
got=$(raw "GET /unsubscribe/$tok1 HTTP/1.1\r\nHost: h\r\nX-Foo: 1\r\n\r\n")
ok "$(test $n -eq 0 && test "$got" = "200 closed" && same; echo $?)" \
	"6 malformed header names (space, tab, space before the colon, not a token): 400, closed; a good one: 200 (got $got)"

# ---- the one-click POST ----
c=$(code POST "$U1A" --data-raw "$BODY")
printf 'user0001@example.org\ta\tunsubscribed\n' >"$SCRATCH/want"
ok "$(test "$c" = 200 && grep -q "unsubscribed from the list <b>a</b>" "$SCRATCH/body"; echo $?)" \
	"a one-click POST (urlencoded): 200 with a short page (got $c)"
suppressions >"$SCRATCH/got"
is_file "$SCRATCH/got" "$SCRATCH/want" "exactly user0001 is suppressed, for list a only"
c=$(code POST "$U1A" --data-raw "$BODY")
suppressions >"$SCRATCH/got"
ok "$(test "$c" = 200 && cmp -s "$SCRATCH/got" "$SCRATCH/want"; echo $?)" "the same POST again: 200, nothing more (got $c)"
upper=$(echo "$U1A" | sed 's#\(/unsubscribe/\)\(.*\)#\1\U\2#')
c=$(code POST "$upper" --data-raw "$BODY")
suppressions >"$SCRATCH/got"
ok "$(test "$c" = 200 && cmp -s "$SCRATCH/got" "$SCRATCH/want"; echo $?)" \
	"the token in capitals (case-insensitive): 200, nothing more (got $c)"
c=$(code POST "$U2A" -F "$BODY")
printf 'user0002@example.org\ta\tunsubscribed\n' >>"$SCRATCH/want"
suppressions >"$SCRATCH/got"
ok "$(test "$c" = 200 && cmp -s "$SCRATCH/got" "$SCRATCH/want"; echo $?)" \
	"a one-click POST as multipart/form-data: 200, user0002 suppressed for a (got $c)"
c=$(code POST "$U3B" --data-raw "$BODY")
printf 'user0003@example.org\tb\tunsubscribed\n' >>"$SCRATCH/want"
suppressions >"$SCRATCH/got"
is_file "$SCRATCH/got" "$SCRATCH/want" "user0003's token from list b's message suppresses user0003 for b only (got $c)"
c=$(code GET "$U3A")
ok "$(test "$c" = 200; echo $?)" "user0003's list a token still shows its page (got $c)"

# ---- 500 concurrent requests, valid and invalid mixed, from 127.0.0.1-8 ----
mark
: >"$SCRATCH/reqs"
i=0
while [ $i -lt 500 ]; do
	k=$((i % 10)) u=$(( (i / 10) % 4 + 4 )) g=$(( (i / 10) % 3 + 8 ))
	case $k in
	0|1) echo "200 POST $(url "user000$u@example.org" a) $BODY" ;;	# users 4-7: valid
	2) echo "200 GET $(url "user00$(printf %02d $g)@example.org" a) -" ;;	# users 8-10: GET only
	3) echo "400 POST $(url "user00$(printf %02d $g)@example.org" a) List-Unsubscribe=No" ;;
	4) echo "404 POST $(tamper "$(url "user00$(printf %02d $g)@example.org" a)") $BODY" ;;
	5) echo "404 POST $base/unsubscribe/b-$(printf '%016d' "$i" | tr 0-9 a-j) $BODY" ;;
	6) echo "404 GET $base/nothing -" ;;
	7) echo "405 DELETE $(url user0002@example.org b) -" ;;
	8) echo "200 GET $(url user0002@example.org b) -" ;;
	9) echo "400 POST $(url user0002@example.org b) List-Unsubscribe=One-Click&again=1" ;;
	esac | sed "s/\$/ 127.0.0.$((i % 8 + 1))/" >>"$SCRATCH/reqs"
	i=$((i + 1))
done
# shellcheck disable=SC2016
xargs -P 50 -L 1 sh -c '
	if [ "$4" = - ]; then c=$(curl -s -o /dev/null -w "%{http_code}" -X "$2" --max-time 30 --interface "$5" "$3")
	else c=$(curl -s -o /dev/null -w "%{http_code}" -X "$2" --max-time 30 --interface "$5" --data-raw "$4" "$3"); fi
	echo "$1 $c $2 $3" >>"$0"' "$SCRATCH/results" <"$SCRATCH/reqs"
wrong=$(awk '$1 != $2' "$SCRATCH/results" | wc -l)
ok "$(test "$(wc -l <"$SCRATCH/results")" -eq 500 && test "$wrong" -eq 0; echo $?)" \
	"500 requests, 50 at a time: every one answered as expected ($wrong not)"
awk '$1 != $2' "$SCRATCH/results" | head -5 | diag
for u in 4 5 6 7; do
	printf 'user000%s@example.org\ta\tunsubscribed\n' "$u"
done >>"$SCRATCH/want"
sort "$SCRATCH/want" -o "$SCRATCH/want"
suppressions >"$SCRATCH/got"
is_file "$SCRATCH/got" "$SCRATCH/want" "afterwards exactly users 4-7 are added, for list a"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null; echo $?)" "the daemon is still up"

# ---- the log: a hash per token, never a token or an address ----
leaks=0
for u in $(cut -f3 "$SCRATCH/urls"); do
	t=${u##*/}
	grep -qi "$t" "$LOG" && leaks=$((leaks + 1))
done
grep -q "@example.org" "$LOG" && leaks=$((leaks + 1))
ok "$(test $leaks -eq 0 && grep -Eq "info http: token=[0-9a-f]{8} list=a: unsubscribed" "$LOG"; echo $?)" \
	"the log names tokens by an 8-hex hash only, and no address"

# ---- SIGHUP: a new listen address moves the endpoint ----
HPORT2=$(free_port)
sed -i "s#listen: 127.0.0.1:$HPORT#listen: 127.0.0.1:$HPORT2#" "$P/config/herald.yaml"
kill -HUP "$DAEMON_PID"
_i=0
while ! grep -q "serving one-click unsubscribe on 127.0.0.1:$HPORT2" "$LOG" && [ $_i -lt 100 ]; do
	sleep 0.05; _i=$((_i + 1))
done
U3A2=$(echo "$U3A" | sed "s#:$HPORT/#:$HPORT2/#")
c=$(code GET "$U3A2")
c0=$(code GET "$U3A")
ok "$(test "$c" = 200 && test "$c0" = 000; echo $?)" \
	"SIGHUP with a new http.listen: served there (got $c), not on the old port (got $c0)"

stop_daemon
ok "$(test "$DAEMON_STATUS" -eq 0; echo $?)" "SIGTERM: exit 0 (got $DAEMON_STATUS)"
c=$(code GET "$U3A2")
ok "$(test "$c" = 000; echo $?)" "and the endpoint is gone (got $c)"
sed -i "s#listen: 127.0.0.1:$HPORT2#listen: 127.0.0.1:$HPORT#" "$P/config/herald.yaml"

# ---- a listen address that cannot be served ----
"$PY" -m http.server --bind 127.0.0.1 "$HPORT" >/dev/null 2>&1 &
BUSY_PID=$!
SERVER_PIDS="$SERVER_PIDS $BUSY_PID"
"$PY" "$TOP/tests/tools/port.py" wait "$HPORT"
"$HERALD" -C "$P" run >"$SCRATCH/busy.out" 2>&1
st=$?
ok "$(test $st -eq 69 && grep -q "cannot serve 127.0.0.1:$HPORT" "$SCRATCH/busy.out"; echo $?)" \
	"a port in use: herald run says so and exits 69 (got $st)"
diag <"$SCRATCH/busy.out"
stop_pid "$BUSY_PID"

sed -i "s#listen: 127.0.0.1:$HPORT#listen: localhost:$HPORT#" "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
st=$?
ok "$(test $st -eq 78 && grep -q "herald.yaml:[0-9]*:[0-9]*: 'listen': 'localhost' is not an IPv4 address" "$SCRATCH/check.out"; echo $?)" \
	"listen: localhost:PORT is refused by check with its position, 78 (got $st)"
diag <"$SCRATCH/check.out"

done_testing
