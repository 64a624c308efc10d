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

# The same words without our Message-ID: a human's mail, left alone.
grep -v '^In-Reply-To' "$SCRATCH/reply.eml" >"$SCRATCH/forged.eml"
ok "$(test "$(classify "$SCRATCH/forged.eml")" = human; echo $?)" \
	"no token and no reply to ours: human mail, nobody unsubscribed"

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

printf 'From: x\n\n' | "$HERALD" classify >"$SCRATCH/stdin.got" 2>&1
ok "$(test "$(cat "$SCRATCH/stdin.got")" = human; echo $?)" "reads standard input"
"$HERALD" classify "$SCRATCH/missing.eml" >/dev/null 2>"$SCRATCH/err"
ok "$(test $? -eq 66 && grep -q 'missing.eml' "$SCRATCH/err"; echo $?)" "a missing FILE: exit 66, named"

# The corpus: figures printed, and a floor so that they only go up.
/usr/bin/python3 "$TOP/tests/tools/bounce-score.py" "$HERALD" "$SHARED/corpus/bounces" >"$SCRATCH/score"
ok $? "the corpus scorer runs"
diag <"$SCRATCH/score"
recall=$(sed -n 's/^# recall: \([0-9.]*\).*/\1/p' "$SCRATCH/score")
precision=$(sed -n 's/^# precision: \([0-9.]*\).*/\1/p' "$SCRATCH/score")
ok "$(awk -v r="$recall" 'BEGIN { exit !(r >= 0.86) }'; echo $?)" "corpus recall $recall >= 0.86 (goal 0.95)"
ok "$(awk -v p="$precision" 'BEGIN { exit !(p >= 0.96) }'; echo $?)" "corpus precision $precision >= 0.96 (goal 0.98)"

done_testing
