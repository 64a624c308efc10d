#!/bin/sh
# Translations into the capturing sink (tests/tools/sink.py): a release in
# English with Spanish, French and Portuguese translations goes to readers
# of each: the Spanish reader gets the Spanish text in the Spanish variant
# of the template (card.es.yaml), the French one the French text in the
# plain template, the reader without a lang the English, a reader of pt-BR
# (by their list's lang) the Portuguese; a field a translation lacks
# (about) is the release's; Content-Language says which. preview --lang;
# a digest in each digest reader's language, in the digest template's
# variant; check's errors and warnings at their positions, nothing sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi

S="$SCRATCH/sink"
start_sink "$S"
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT"
cat >"$P/lists/a.yaml" <<'EOF'
name: Alpha Press
template: card
digest: { template: dg }
subscribers:
  - { email: es@example.org, name: Ana, org: Diario, lang: es }
  - { email: fr@example.org, name: Fred, org: Journal, lang: fr }
  - { email: en@example.org, name: Ed, org: Daily }
  - { email: dges@example.org, name: Dora, org: Semanario, lang: es, delivery: digest }
  - { email: dgen@example.org, name: Dan, org: Weekly, delivery: digest }
EOF
cat >"$P/lists/b.yaml" <<'EOF'
name: Beta Press
template: card
lang: pt-BR
subscribers:
  - { email: pt@example.org, name: Paula, org: Folha }
EOF
# The Spanish variant of card: its own words around the text.
cat >"$P/templates/card.es.yaml" <<'EOF'
subject: "{{release.title}}"
text: |
  Estimada/o {{subscriber.name}},
  Medio: {{subscriber.org}}

  {{release.body}}
  Acerca de: {{release.about}}
  {{> footer}}
html: |
  <p>Estimada/o {{subscriber.name}} ({{subscriber.org}})</p>
  {{{release.body_html}}}
  <p>Acerca de: {{{release.about_html}}}</p>
EOF
# card as send-lib wrote it, with the about field and the language shown.
cat >"$P/templates/card.yaml" <<'EOF'
subject: "{{release.title}}"
text: |
  Dear {{subscriber.name}},
  Org: {{subscriber.org}}

  {{release.body}}
  About: {{release.about}}
  Language: {{release.lang}}
  {{> footer}}
html: |
  <p>Dear {{subscriber.name}} ({{subscriber.org}})</p>
  {{{release.body_html}}}
  <p>About: {{{release.about_html}}}</p>
EOF
cat >"$P/templates/dg.yaml" <<'EOF'
subject: "{{list.name}} digest"
text: |
  The week's releases:
  {{#releases}}
  * {{title}} [{{lang}}]
    {{summary}}
  {{/releases}}
  {{> footer}}
html: |
  <ul>{{#releases}}<li>{{title}}: {{summary}}</li>{{/releases}}</ul>
EOF
cat >"$P/templates/dg.es.yaml" <<'EOF'
subject: "Resumen de {{list.name}}"
text: |
  Los comunicados de la semana:
  {{#releases}}
  * {{title}} [{{lang}}]
    {{summary}}
  {{/releases}}
  {{> footer}}
html: |
  <ul>{{#releases}}<li>{{title}}: {{summary}}</li>{{/releases}}</ul>
EOF
cat >"$P/releases/news.yaml" <<'EOF'
title: Quarterly news
lists: [a, b]
summary: The quarter in brief.
body: |
  Something *happened*.
about: |
  The desk writes the news.
translations:
  es:
    title: Noticias trimestrales
    summary: El trimestre en breve.
    body: |
      Algo *pasó*.
  fr:
    title: Nouvelles trimestrielles
    summary: Le trimestre en bref.
    body: |
      Quelque chose s'est *passé*.
    about: |
      La rédaction écrit les nouvelles.
  pt:
    title: Notícias trimestrais
    body: |
      Algo *aconteceu*.
EOF

"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1; st=$?
ok $st "the project with translations and variants is valid"
[ $st -eq 0 ] || diag <"$SCRATCH/check.out"
! grep -q "warning: .*variant" "$SCRATCH/check.out"
ok $? "no variant warning: each variant has its readers"

# ---- preview --lang ----
"$HERALD" -C "$P" preview news --lang fr >"$SCRATCH/pfr.eml" 2>"$SCRATCH/pfr.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^Subject: Nouvelles trimestrielles' "$SCRATCH/pfr.eml" &&
	grep -q '^Content-Language: fr' "$SCRATCH/pfr.eml" && grep -q '^To: Ana <es@example.org>' "$SCRATCH/pfr.eml"; echo $?)" \
	"preview --lang fr: the first subscriber (a Spanish reader) as a French reader would see it (exit $st)"
"$HERALD" -C "$P" preview news --lang es --to en@example.org >"$SCRATCH/pes.eml" 2>"$SCRATCH/pes.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^Subject: Noticias trimestrales' "$SCRATCH/pes.eml" &&
	grep -q '^Content-Language: es' "$SCRATCH/pes.eml" && grep -q '^Estimada/o Ed,' "$SCRATCH/pes.eml"; echo $?)" \
	"preview --lang es --to an English reader: the Spanish text in the Spanish variant (exit $st)"
"$HERALD" -C "$P" preview news --to es@example.org >"$SCRATCH/pdef.eml" 2>&1; st=$?
ok "$(test $st -eq 0 && grep -q '^Content-Language: es' "$SCRATCH/pdef.eml"; echo $?)" \
	"preview --to a Spanish reader, without --lang: Spanish (exit $st)"
"$HERALD" -C "$P" preview news --lang de >"$SCRATCH/pde.eml" 2>"$SCRATCH/pde.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^Content-Language: en' "$SCRATCH/pde.eml" &&
	grep -q "note: release news has no translation into de; its readers get it in en" "$SCRATCH/pde.err"; echo $?)" \
	"preview --lang de (no translation): the English, and a note saying so (exit $st)"
"$HERALD" -C "$P" preview news --lang pt-br >/dev/null 2>"$SCRATCH/pbad.err"; st=$?
ok "$(test $st -eq 64 && grep -q "^herald: --lang: language 'pt-br' is written 'pt-BR'$" "$SCRATCH/pbad.err"; echo $?)" \
	"preview --lang pt-br: a usage error with the tag's one spelling (exit $st)"
"$HERALD" -C "$P" preview news --lang english >/dev/null 2>"$SCRATCH/pbad2.err"; st=$?
ok "$(test $st -eq 64 && grep -q "not a language tag" "$SCRATCH/pbad2.err"; echo $?)" \
	"preview --lang english: a usage error (exit $st)"
ok "$(test "$(received "$S")" -eq 0; echo $?)" "previews sent nothing"

# ---- the send: each reader their version ----
"$HERALD" -C "$P" send news >"$SCRATCH/send.out" 2>"$SCRATCH/send.err"; st=$?
ok $st "herald send news: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/send.err"

cat >"$SCRATCH/versions.py" <<'PY'
# versions.py SINKDIR FIRST: one line per message from number FIRST on,
# "rcpt<TAB>Content-Language<TAB>Subject<TAB>marks", marks naming what the
# text and HTML parts hold (greeting, body, about) or "defects: ...".
import email, glob, json, sys
from email import policy

sink, first = sys.argv[1], int(sys.argv[2])
marks = {
    "greet-en": "Dear ", "greet-es": "Estimada/o ",
    "body-en": "Something happened.", "body-es": "Algo pasó.",
    "body-fr": "Quelque chose s'est passé.", "body-pt": "Algo aconteceu.",
    "about-en": "The desk writes the news.", "about-fr": "La rédaction écrit les nouvelles.",
    "digest-en": "The week's releases:", "digest-es": "Los comunicados de la semana:",
    "item-en": "* Quarterly news [en]", "item-es": "* Noticias trimestrales [es]",
    "sum-en": "The quarter in brief.", "sum-es": "El trimestre en breve.",
}
html_marks = {
    "body-en": "Something <em>happened</em>.", "body-es": "Algo <em>pasó</em>.",
    "body-fr": "Quelque chose s'est <em>passé</em>.", "body-pt": "Algo <em>aconteceu</em>.",
}
for j in sorted(glob.glob(sink + "/[0-9]*.json")):
    if int(j[-11:-5]) < first:
        continue
    meta = json.load(open(j))
    with open(j[:-5] + ".eml", "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=policy.strict)
    bad = [type(d).__name__ for p in msg.walk() for d in p.defects]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    got = [k for k, v in sorted(marks.items()) if v in text]
    for k, v in html_marks.items():
        if (v in html) != (k in got):
            bad.append("html and text disagree on " + k)
    print("%s\t%s\t%s\t%s" % (meta["rcpt_tos"][0], msg["Content-Language"], msg["Subject"],
          " ".join(got) + (" defects: " + ",".join(bad) if bad else "")))
PY
T='	'
got=$("$PY" "$SCRATCH/versions.py" "$S" 1 | sort)
want="en@example.org${T}en${T}Quarterly news${T}about-en body-en greet-en
es@example.org${T}es${T}Noticias trimestrales${T}about-en body-es greet-es
fr@example.org${T}fr${T}Nouvelles trimestrielles${T}about-fr body-fr greet-en
pt@example.org${T}pt${T}Notícias trimestrais${T}about-en body-pt greet-en"
[ "$got" = "$want" ]
ok $? "each reader got their version: subject, Content-Language, text and HTML; es in card.es, about from the release where a translation lacks it"
[ "$got" = "$want" ] || { echo "got:"; echo "$got"; echo "want:"; echo "$want"; } | diag
# lang_of RCPT: the "Language: ..." line the plain template printed for RCPT (log.tsv is in file order).
lang_of() {
	_n=$(awk -F'\t' -v r="$1" '$3 == r { print NR; exit }' "$S/log.tsv")
	grep -h '^Language: ' "$S/$(printf %06d "$_n").eml" | tr -d '\r'
}
got="$(lang_of en@example.org) $(lang_of fr@example.org) $(lang_of pt@example.org)"
[ "$got" = "Language: en Language: fr Language: pt" ]
ok $? "release.lang in a template is the version's language (got: $got)"

# ---- the digest: each digest reader in their language ----
first=$(( $(received "$S") + 1 ))
"$HERALD" -C "$P" digest a >"$SCRATCH/dg.out" 2>"$SCRATCH/dg.err"; st=$?
ok $st "herald digest a: exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/dg.err"
got=$("$PY" "$SCRATCH/versions.py" "$S" "$first" | sort)
want="dgen@example.org${T}en${T}Alpha Press digest${T}digest-en item-en sum-en
dges@example.org${T}es${T}Resumen de Alpha Press${T}digest-es item-es sum-es"
[ "$got" = "$want" ]
ok $? "the Spanish digest reader got the Spanish release in dg.es; the other the English in dg"
[ "$got" = "$want" ] || { echo "got:"; echo "$got"; echo "want:"; echo "$want"; } | diag

# ---- check: errors at their positions, warnings; nothing sent ----
before=$(received "$S")
cp "$P/releases/news.yaml" "$SCRATCH/news.yaml"
cat >"$P/releases/news.yaml" <<'EOF'
title: Quarterly news
lists: [a]
lang: en
body: Something happened.
translations:
  es:
    titel: Noticias trimestrales
    embargo: 2017-06-22T09:00:00Z
  pt-br:
    title: Notícias
  en:
    title: Again
EOF
"$HERALD" -C "$P" check >"$SCRATCH/c1.out" 2>"$SCRATCH/c1.err"; st=$?
grep -v ': warning: ' "$SCRATCH/c1.err" >"$SCRATCH/c1.errors"
cat >"$SCRATCH/c1.want" <<EOF
releases/news.yaml:7:5: unknown key 'titel' in translation 'es'; did you mean 'title'?
releases/news.yaml:8:5: 'embargo' is not translated: a translation holds only text fields (title, byline, dateline, summary, body, about, contact)
releases/news.yaml:9:3: language 'pt-br' is written 'pt-BR'
releases/news.yaml:11:3: translation 'en' is the release's own language (lang: en): its text is the release's own fields
EOF
[ $st -eq 65 ]
ok $? "check of a release with bad translations: exit 65 (got $st)"
is_file "$SCRATCH/c1.errors" "$SCRATCH/c1.want" "every error, at its line and column"
"$HERALD" -C "$P" send news --yes >"$SCRATCH/s2.out" 2>"$SCRATCH/s2.err"; st=$?
ok "$(test $st -eq 65 && grep -q "unknown key 'titel'" "$SCRATCH/s2.err"; echo $?)" "send refuses it: exit 65 (got $st)"
cp "$SCRATCH/news.yaml" "$P/releases/news.yaml"

# A reader's lang is herald's, not a template field.
cp "$P/templates/card.yaml" "$SCRATCH/card.yaml"
sed -i 's/^  Org: {{subscriber.org}}$/  Org: {{subscriber.lang}}/' "$P/templates/card.yaml"
"$HERALD" -C "$P" check >/dev/null 2>"$SCRATCH/c2.err"; st=$?
ok "$(test $st -eq 65 && grep -q "^templates/card.yaml:4:8: unknown name 'subscriber.lang'" "$SCRATCH/c2.err"; echo $?)" \
	"subscriber.lang is no template field: unknown name at its position (exit $st)"
[ $st -eq 65 ] || diag <"$SCRATCH/c2.err"
cp "$SCRATCH/card.yaml" "$P/templates/card.yaml"

# A variant nobody reads: a warning, not an error; T.es as a template of its own still works.
cp "$P/templates/card.es.yaml" "$P/templates/card.de.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/c3.out" 2>"$SCRATCH/c3.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^configuration OK$' "$SCRATCH/c3.out" &&
	grep -q "^templates/card.de.yaml: warning: variant of template 'card' for language 'de', which no subscriber, list or release reads: nobody gets it$" "$SCRATCH/c3.err"; echo $?)" \
	"a variant for a language nobody reads: a warning naming it, exit 0 (got $st)"
[ $st -eq 0 ] || diag <"$SCRATCH/c3.err"
rm "$P/templates/card.de.yaml"
sed -i 's/^template: card$/template: card.es/' "$P/lists/b.yaml"
"$HERALD" -C "$P" preview news --list b >"$SCRATCH/pb.eml" 2>"$SCRATCH/pb.err"; st=$?
ok "$(test $st -eq 0 && grep -q '^Estimada/o Paula,' "$SCRATCH/pb.eml" && grep -q '^Content-Language: pt' "$SCRATCH/pb.eml"; echo $?)" \
	"a list whose template is card.es names that file itself (exit $st)"
sed -i 's/^template: card.es$/template: card/' "$P/lists/b.yaml"

# A list's and a subscriber's lang are checked where they stand.
cat >"$P/lists/c.yaml" <<'EOF'
name: Gamma
template: card
lang: Spanish
subscribers:
  - { email: g1@example.org, name: G, org: O, lang: FR }
  - { email: g2@example.org, name: H, org: O, lnag: fr }
EOF
"$HERALD" -C "$P" check 2>&1 | grep -v ': warning: ' >"$SCRATCH/c4.err"
cat >"$SCRATCH/c4.want" <<EOF
lists/c.yaml:3:7: 'Spanish' in 'lang' is not a language tag such as en, es, pt-BR or zh-Hant
lists/c.yaml:5:53: language 'FR' is written 'fr'
lists/c.yaml:6:47: unknown key 'lnag' in subscriber; did you mean 'lang'?
EOF
is_file "$SCRATCH/c4.err" "$SCRATCH/c4.want" "a list's and its subscribers' bad langs, at their positions"
rm "$P/lists/c.yaml"
sleep 0.3
ok "$(test "$(received "$S")" -eq "$before"; echo $?)" "nothing was sent by any of the refused inputs"

done_testing
