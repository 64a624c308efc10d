#!/bin/sh
# herald classify: one message in, one line per finding out. Messages of
# each kind herald meets, and the corpus of real bounces from other
# projects' test suites, scored (recall, precision, hard/soft).
. "$(dirname "$0")/lib.sh"
scratch
cd "$TOP" || exit 1

classify() { "$HERALD" classify "$1" 2>&1; }

# A DSN (RFC 3464) for a VERP address of ours: the failed recipient, hard.
cat >"$SCRATCH/dsn.eml" <<'MSG'
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: bounces+12-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; Gone.Reader@Example.NET
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone.reader@example.net>: Recipient
    address rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; slow@example.net
Action: delayed
Status: 4.4.1

--B--
MSG
printf 'bounce\thard\tgone.reader@example.net\t5.1.1\n' >"$SCRATCH/dsn.want"
classify "$SCRATCH/dsn.eml" >"$SCRATCH/dsn.got"
is_file "$SCRATCH/dsn.got" "$SCRATCH/dsn.want" "a DSN: the failed recipient, hard; a delayed one is no failure"

# Mailbox full: soft, whatever the class.
sed -e 's/Status: 5.1.1/Status: 5.2.2/' \
    -e 's/Recipient$/Mailbox full:/' -e 's/address rejected: User unknown in virtual mailbox table/quota exceeded/' \
    "$SCRATCH/dsn.eml" >"$SCRATCH/full.eml"
classify "$SCRATCH/full.eml" | cut -f1,2,4 >"$SCRATCH/full.got"
printf 'bounce\tsoft\t5.2.2\n' >"$SCRATCH/full.want"
is_file "$SCRATCH/full.got" "$SCRATCH/full.want" "over quota is soft"

# A qmail bounce: plain text, the address alone before its reason.
cat >"$SCRATCH/qmail.eml" <<'MSG'
From: MAILER-DAEMON@mail.example.org
To: bounces+13-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: failure notice

Hi. This is the qmail-send program at mail.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@example.org>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <bounces+13-abcdefghijklmnopqrstuvwxyz12@ogp.example>
To: Some Reader <reader@example.com>
MSG
printf 'bounce\thard\tnobody@example.org\t5.1.1\n' >"$SCRATCH/qmail.want"
classify "$SCRATCH/qmail.eml" >"$SCRATCH/qmail.got"
is_file "$SCRATCH/qmail.got" "$SCRATCH/qmail.want" "qmail: the address before its reason; the returned To: is not a failure"

# A tokened unsubscribe, and a reply to one of our messages asking for it.
cat >"$SCRATCH/unsub.eml" <<'MSG'
From: Ana <ana@example.org>
To: unsubscribe+14-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: unsubscribe

MSG
printf 'unsubscribe\tana@example.org\t-\n' >"$SCRATCH/unsub.want"
classify "$SCRATCH/unsub.eml" >"$SCRATCH/unsub.got"
is_file "$SCRATCH/unsub.got" "$SCRATCH/unsub.want" "mail to unsubscribe+TOKEN is an unsubscribe"

cat >"$SCRATCH/reply.eml" <<'MSG'
From: Beatriz <bea@example.com.ar>
To: OGP Support Unit <press@ogp.example>
Subject: Re: OGP Americas
In-Reply-To: <ogp-americas-2017.15-abcdefghijklmnop@ogp.example>

Por favor, darme de baja de esta lista.

> Estimados periodistas,
MSG
printf 'unsubscribe\tbea@example.com.ar\t-\n' >"$SCRATCH/reply.want"
classify "$SCRATCH/reply.eml" >"$SCRATCH/reply.got"
is_file "$SCRATCH/reply.got" "$SCRATCH/reply.want" "a reply to our message asking (in Spanish) to leave"

# The same words without our Message-ID: still the request itself, reply or
# not (the caller asks for a confirmation when there is no token or id).
grep -v '^In-Reply-To' "$SCRATCH/reply.eml" >"$SCRATCH/forged.eml"
classify "$SCRATCH/forged.eml" >"$SCRATCH/forged.got"
is_file "$SCRATCH/forged.got" "$SCRATCH/reply.want" "no token and no reply to ours: still an unsubscribe request"

# Mail to the bare unsubscribe address is a request, whatever it says.
cat >"$SCRATCH/bare.eml" <<'MSG'
From: "Ana" <Ana@Example.ORG>
To: OGP <Unsubscribe@OGP.example>
Subject: hello

What is this list about?
MSG
ok "$(test "$(classify "$SCRATCH/bare.eml")" = "$(printf 'unsubscribe\tana@example.org\t-')"; echo $?)" \
	"mail to the bare unsubscribe address (any case) is an unsubscribe"

# The request itself as subject or as first own line, in four languages,
# tokened or not; the rest of the message does not matter.
TOKEN_TO=unsubscribe+14-abcdefghijklmnopqrstuvwxyz12@ogp.example
request() { # request TO SUBJECT BODY
	printf 'From: Bea <bea@example.com.ar>\nTo: %s\nSubject: %s\nMIME-Version: 1.0\n' "$1" "$2"
	printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n' "$3"
	printf '\n> Estimados periodistas,\n> la cumbre empieza el lunes.\n'
}
want_unsub=$(printf 'unsubscribe\tbea@example.com.ar\t-')
while IFS= read -r phrase; do
	for to in press@ogp.example "$TOKEN_TO"; do
		tok=untokened; [ "$to" = press@ogp.example ] || tok=tokened
		request "$to" "Re: $phrase" "Gracias por el envío." >"$SCRATCH/req.eml"
		ok "$(test "$(classify "$SCRATCH/req.eml")" = "$want_unsub"; echo $?)" \
			"subject \"Re: $phrase\" ($tok): unsubscribe"
		request "$to" "Re: OGP Americas" "$phrase" >"$SCRATCH/req.eml"
		ok "$(test "$(classify "$SCRATCH/req.eml")" = "$want_unsub"; echo $?)" \
			"first line \"$phrase\" ($tok): unsubscribe"
	done
done <<'PHRASES'
unsubscribe
Unsubscribe me
please unsubscribe me
remove me
Please remove me from this list.
STOP
unsubscribe, thank you!
darme de baja
Dar de baja por favor
baja
cancelar suscripción
Cancelar mi suscripción, gracias
quiero darme de baja de la lista
descadastrar
descadastre-me
Me descadastre, obrigado
cancelar inscrição
désabonner
me désabonner
Désabonnez-moi s'il vous plaît
désinscription
se désinscrire, merci
PHRASES

# A sentence that mentions the word is not the request; nor is a quote.
while IFS= read -r sentence; do
	request press@ogp.example "Re: OGP Americas" "$sentence" >"$SCRATCH/men.eml"
	ok "$(test "$(classify "$SCRATCH/men.eml")" = human; echo $?)" "first line \"$sentence\": human"
	request press@ogp.example "$sentence" "Hello" >"$SCRATCH/men.eml"
	ok "$(test "$(classify "$SCRATCH/men.eml")" = human; echo $?)" "subject \"$sentence\": human"
done <<'SENTENCES'
I will never unsubscribe, this is great
How do I stop getting two copies?
Don't remove me but change my address
Stop the presses: who speaks on day two?
SENTENCES
request press@ogp.example "Re: OGP Americas" "$(printf 'Thanks, I will be there.\n\n> unsubscribe')" >"$SCRATCH/quoted.eml"
ok "$(test "$(classify "$SCRATCH/quoted.eml")" = human; echo $?)" \
	"\"> unsubscribe\" quoted below a real first line: human"

# An auto-reply sent to unsubscribe+TOKEN@ stays an auto-reply.
cat >"$SCRATCH/autotoken.eml" <<'MSG'
From: Carla <carla@example.org>
To: unsubscribe+16-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: Out of office: unsubscribe
Auto-Submitted: auto-replied

I am away until Monday.
MSG
ok "$(test "$(classify "$SCRATCH/autotoken.eml")" = auto-reply; echo $?)" \
	"an auto-reply to unsubscribe+TOKEN@ is an auto-reply, not an unsubscribe"

# RFC 3834 sends an auto-reply to the return path: our VERP address. The
# token alone does not make it a bounce.
cat >"$SCRATCH/autoverp.eml" <<'MSG'
From: Carla <carla@example.org>
To: bounces+16-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: Automatic reply: OGP Americas
Auto-Submitted: auto-replied

I am away until Monday.
MSG
ok "$(test "$(classify "$SCRATCH/autoverp.eml")" = auto-reply; echo $?)" \
	"an auto-reply to the VERP address is an auto-reply, not a bounce"

# The server stamps Delivered-To on every message of the mailbox, which
# may be the unsubscribe address's own: that is no request.
cat >"$SCRATCH/delivered.eml" <<'MSG'
Delivered-To: unsubscribe@ogp.example
X-Original-To: unsubscribe@ogp.example
From: Dana <dana@example.org>
To: press@ogp.example
Subject: Interview request

Could the minister speak to us on Friday?
MSG
ok "$(test "$(classify "$SCRATCH/delivered.eml")" = human; echo $?)" \
	"Delivered-To: the unsubscribe address alone makes no request"

cat >"$SCRATCH/vacation.eml" <<'MSG'
From: Carla <carla@example.org>
To: press@ogp.example
Subject: Out of office: OGP Americas
Auto-Submitted: auto-replied
In-Reply-To: <ogp-americas-2017.16-abcdefghijklmnop@ogp.example>

I am away until Monday. Please unsubscribe requests to my colleague.
MSG
ok "$(test "$(classify "$SCRATCH/vacation.eml")" = auto-reply; echo $?)" \
	"an RFC 3834 auto-reply is neither unsubscribe nor bounce"

cat >"$SCRATCH/question.eml" <<'MSG'
From: Daniel <daniel@paper.example>
To: press@ogp.example
Subject: Question about the summit
In-Reply-To: <ogp-americas-2017.17-abcdefghijklmnop@ogp.example>

Could you tell me who speaks on the second day?
MSG
ok "$(test "$(classify "$SCRATCH/question.eml")" = human; echo $?)" "a journalist's question is human mail"

# A report of success (someone asked for NOTIFY=SUCCESS) is no bounce.
sed -e 's/^Action: failed/Action: delivered/' -e 's/^Status: 5.1.1/Status: 2.1.5/' \
    -e '/^Final-Recipient: rfc822; slow/,$d' "$SCRATCH/dsn.eml" >"$SCRATCH/success.eml"
printf -- '--B--\n' >>"$SCRATCH/success.eml"
ok "$(test "$(classify "$SCRATCH/success.eml")" = auto-reply; echo $?)" \
	"a delivery report whose action is delivered (2.1.5) is an auto-reply, no bounce"

# A challenge-response system's request to prove the sender human, sent
# to the return path (our VERP address): an auto-reply, not a soft bounce.
cat >"$SCRATCH/challenge.eml" <<'MSG'
From: Reader <reader@example.net>
To: bounces+16-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: Re: OGP Americas (verification required)

Hello. I use a spam filter that holds mail from senders I do not know.
Please confirm you are human so your mail reaches me: click the link
below once and you will be added to my approved senders.
MSG
ok "$(test "$(classify "$SCRATCH/challenge.eml")" = auto-reply; echo $?)" \
	"a challenge-response message is an auto-reply, not a soft bounce"

# The Majordomo habit: "unsubscribe LISTNAME" as the whole subject.
request press@ogp.example "unsubscribe ogp-americas" "" >"$SCRATCH/majordomo.eml"
ok "$(test "$(classify "$SCRATCH/majordomo.eml")" = "$want_unsub"; echo $?)" \
	"subject \"unsubscribe ogp-americas\": unsubscribe"
request press@ogp.example "unsubscribe link broken" "Hello" >"$SCRATCH/majordomo.eml"
ok "$(test "$(classify "$SCRATCH/majordomo.eml")" = human; echo $?)" \
	"subject \"unsubscribe link broken\": human"

# A bounce that names no address, to our VERP address: without a journal
# to verify the token herald cannot name the recipient, so no bounce line.
cat >"$SCRATCH/noname.eml" <<'MSG'
From: MAILER-DAEMON@mx.example.net
To: bounces+17-abcdefghijklmnopqrstuvwxyz12@ogp.example
Subject: Undelivered Mail Returned to Sender

Your message could not be delivered. This is a permanent error.
MSG
"$HERALD" classify "$SCRATCH/noname.eml" >"$SCRATCH/noname.out" 2>"$SCRATCH/noname.err"
ok "$(test $? -eq 0 && test ! -s "$SCRATCH/noname.out" &&
	grep -q 'noname.eml: a bounce that names no recipient' "$SCRATCH/noname.err"; echo $?)" \
	"a bounce herald cannot name prints no bounce line (a note on stderr)"

printf 'From: x\n\n' | "$HERALD" classify >"$SCRATCH/stdin.got" 2>&1
ok "$(test "$(cat "$SCRATCH/stdin.got")" = human; echo $?)" "reads standard input"
"$HERALD" classify "$SCRATCH/missing.eml" >/dev/null 2>"$SCRATCH/err"
ok "$(test $? -eq 66 && grep -q 'missing.eml' "$SCRATCH/err"; echo $?)" "a missing FILE: exit 66, named"

# The corpora: figures printed, and floors so that they only go up.
score_corpus() { # score_corpus DIR LABEL RECALL PRECISION HARDSOFT
	/usr/bin/python3 "$TOP/tests/tools/bounce-score.py" "$HERALD" "$1" >"$SCRATCH/score"
	ok $? "the $2 scorer runs"
	diag <"$SCRATCH/score"
	recall=$(sed -n 's/^# recall: \([0-9.]*\).*/\1/p' "$SCRATCH/score")
	precision=$(sed -n 's/^# precision: \([0-9.]*\).*/\1/p' "$SCRATCH/score")
	hardsoft=$(sed -n 's/^# hard\/soft accuracy: \([0-9.]*\).*/\1/p' "$SCRATCH/score")
	ok "$(awk -v r="$recall" -v f="$3" 'BEGIN { exit !(r >= f) }'; echo $?)" "$2 recall $recall >= $3"
	ok "$(awk -v p="$precision" -v f="$4" 'BEGIN { exit !(p >= f) }'; echo $?)" "$2 precision $precision >= $4"
	ok "$(awk -v h="$hardsoft" -v f="$5" 'BEGIN { exit !(h >= f) }'; echo $?)" "$2 hard/soft $hardsoft >= $5"
}

# ../shared/corpus/bounces: 208 real bounces with hand-checked answers.
if shared_present; then
	score_corpus "$SHARED/corpus/bounces" "../shared corpus" 0.995 0.99 0.99
else
	for c in "scorer runs" recall precision hard/soft; do
		skip "../shared corpus $c" "../shared not present"
	done
fi

# Debian's python3-flufl.bounce ships real bounces with its detectors' answers
# (scripts/deps installs it), so a clone alone scores real mail too. The
# answers are the package's own table: a permanent failure there is not
# always the address's fault, and a few of its files are not bounces that
# name a recipient herald can trust.
/usr/bin/python3 "$TOP/tests/tools/flufl-corpus.py" "$SCRATCH/flufl"
ok $? "python3-flufl.bounce's test data made into a corpus"
score_corpus "$SCRATCH/flufl" "flufl.bounce corpus" 0.96 0.99 0.99

done_testing
