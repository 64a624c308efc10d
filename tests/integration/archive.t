#!/bin/sh
# herald archive, the press room, after real sends into the capturing sink:
# feed.atom read by a real Atom parser (python3-feedparser), the index and
# the pages read back and checked by tidy; only what went out, is public
# and lifted is there, as the journal's snapshot; no subscriber address,
# field or token anywhere; files renamed into place (a reader polling them
# never sees half a page) and pages no longer published removed; check and
# archive on templates/archive.yaml; release.url in messages; herald run
# rewriting it after a send and at a lift; the pages at a phone's width.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/send-lib.sh"

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "1..0 # SKIP needs aiosmtpd for $PY"
	exit 0
fi
if ! "$PY" -c 'import feedparser' 2>/dev/null || ! command -v tidy >/dev/null; then
	echo "1..0 # SKIP needs python3-feedparser and tidy (scripts/deps installs them)"
	exit 0
fi
iso_at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# wait_file FILE SECONDS: until FILE exists.
wait_file() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt $(($2 * 20)) ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ -e "$1" ]
}

S="$SCRATCH/sink"
start_sink "$S" --defer-rcpt '^late@'
ok $? "the capturing sink starts"
P="$SCRATCH/p"
project "$P" "$PORT"
gen_list "$P/lists/a.yaml" 1 20
cat >"$P/lists/c.yaml" <<'EOF'
name: Partners
template: card
subscribers:
  - { email: early@partner.example, name: Early, org: Partner One }
  - { email: late@partner.example, name: Late, org: Partner Two }
EOF
cat >"$P/releases/news.yaml" <<'EOF'
title: Quarterly news
lists: [a]
summary: The quarter in *one* line.
body: |
  Something happened. <script>alert(1)</script>
contact: Press office, +1 555 0100
translations:
  es:
    title: Noticias trimestrales
    summary: El trimestre en una línea.
    body: Algo pasó.
EOF
cat >"$P/releases/second.yaml" <<'EOF'
title: "Second release: <b>bold</b> & more"
lists: [a]
body: |
  A second release, with a link to
  https://www.opengovpartnership.org/americas-regional-meeting-2017/call-for-proposals/speakers-moderators-and-facilitators
EOF
cat >"$P/releases/private.yaml" <<'EOF'
title: For partners only
lists: [a]
public: false
body: Not for the press room.
EOF
cat >"$P/releases/early.yaml" <<EOF
title: Under embargo for a day
lists: [a]
embargo: $(iso_at $(($(date +%s) + 86400)))
prebrief: { lists: [a] }
body: Everyone is pre-briefed; the public may read it tomorrow.
EOF
cat >"$P/releases/halfway.yaml" <<'EOF'
title: Half delivered
lists: [c]
body: One partner has it, one is deferred.
EOF
cat >"$P/releases/later.yaml" <<'EOF'
title: Scheduled for later
lists: [a]
body: Not yet.
EOF
cat >"$P/releases/unsent.yaml" <<'EOF'
title: Never sent
lists: [a]
body: A draft.
EOF
"$HERALD" -C "$P" check >"$SCRATCH/check.out" 2>&1
ok $? "the project is valid"
diag <"$SCRATCH/check.out"

# ---- before anything went out: an empty press room, and no journal made for it ----
"$HERALD" -C "$P" archive --out "$SCRATCH/empty" >"$SCRATCH/empty.out" 2>&1
st=$?
ok "$(test $st -eq 0 && test ! -e "$P/state/herald.db" &&
	"$PY" -c 'import feedparser, sys
f = feedparser.parse(sys.argv[1])
sys.exit(f.bozo or f.version != "atom10" or len(f.entries) != 0)' "$SCRATCH/empty/feed.atom" &&
	grep -q 'No releases yet' "$SCRATCH/empty/index.html"; echo $?)" \
	"no journal yet: an empty index and feed, and no journal created (got $st)"
diag <"$SCRATCH/empty.out"

# ---- sends: a second apart, so that each has its own time ----
send_one() {
	"$HERALD" -C "$P" send "$1" >>"$SCRATCH/send.out" 2>&1
	_st=$?
	sleep 1.1
	return $_st
}
send_one news
ok $? "news is sent"
send_one second
ok $? "second is sent"
send_one private
ok $? "private (public: false) is sent"
send_one early
ok $? "early is sent to its pre-briefed readers, all of them, a day before its lift"
send_one halfway
ok "$(test $? -eq 75; echo $?)" "halfway: one partner has it, one is deferred (75)"
"$HERALD" -C "$P" schedule later --at "$(iso_at $(($(date +%s) + 3600)))" >>"$SCRATCH/send.out" 2>&1
ok $? "later is scheduled an hour ahead"
diag <"$SCRATCH/send.out"
# The file changes after the send: the press room shows what was sent.
sed -i 's/^title: Quarterly news$/title: Edited after sending/' "$P/releases/news.yaml"

# ---- the default folder: public/ ----
"$HERALD" -C "$P" archive >"$SCRATCH/arch0.out" 2>&1
st=$?
ok "$(test $st -eq 0 && test -f "$P/public/index.html" && test -f "$P/public/feed.atom" &&
	test -f "$P/public/news/index.html"; echo $?)" "herald archive writes public/ without archive.dir (got $st)"
diag <"$SCRATCH/arch0.out"
grep -q 'href="news/"' "$P/public/feed.atom"
ok $? "without sender.archive_url the feed links relative to itself"

# ---- archive.dir and archive_url ----
sed -i '/^  unsubscribe_address:/a\  archive_url: https://press.news.example/releases/' "$P/config/herald.yaml"
printf 'archive:\n  dir: site/\n' >>"$P/config/herald.yaml"
W="$P/site"
"$HERALD" -C "$P" archive >"$SCRATCH/arch1.out" 2>&1
st=$?
ok "$(test $st -eq 0 && grep -q '^archive: 3 releases (4 pages) in site/' "$SCRATCH/arch1.out" &&
	grep -q '2 more went out but are not published' "$SCRATCH/arch1.out"; echo $?)" \
	"herald archive writes archive.dir: 3 releases, 4 pages; private and early withheld (got $st)"
diag <"$SCRATCH/arch1.out"

# When each went out, by the journal: its first delivery sent.
sql "$P/state/herald.db" "SELECT r.release_id, min(d.last_attempt) FROM releases r JOIN deliveries d ON d.release = r.id WHERE d.state = 'sent' GROUP BY r.id" >"$SCRATCH/sent.tsv"

cat >"$SCRATCH/site.py" <<'PY'
# site.py SITE SENT.TSV URL: the feed, the index and the pages read back.
import calendar, feedparser, html.parser, os, re, sys, time
site, sent_file, url = sys.argv[1:4]
sent = dict(l.rstrip("\n").split("\t") for l in open(sent_file))
sent = {k: int(v) for k, v in sent.items()}
def check(name, cond):
    print("%s\t%d" % (name, 0 if cond else 1))
want = ["halfway", "second", "news"]          # newest first
f = feedparser.parse(os.path.join(site, "feed.atom"))
check("feed.atom: well formed (not bozo: %r)" % f.get("bozo_exception"), not f.bozo)
check("feed.atom: Atom 1.0 (%s)" % f.version, f.version == "atom10")
ids = [re.sub(r".*:", "", e.id) for e in f.entries]
check("feed.atom: an entry per public release, newest first (%s)" % ids, ids == want)
for e in f.entries:
    rid = re.sub(r".*:", "", e.id)
    check("feed: %s: id is a tag URI of the sender's domain" % rid,
          re.fullmatch(r"tag:news\.example,\d{4}-\d{2}-\d{2}:" + rid, e.id) is not None)
    check("feed: %s: links to its page %s" % (rid, e.link), e.link == url + rid + "/")
    got = calendar.timegm(e.updated_parsed)
    check("feed: %s: updated %s is when it went out" % (rid, e.updated), got == sent[rid])
    check("feed: %s: has a title" % rid, e.title != "")
news = [e for e in f.entries if e.id.endswith(":news")][0]
check("feed: news: its title is the snapshot's", news.title == "Quarterly news")
check("feed: news: its summary", news.summary.startswith("The quarter in one line"))
check("feed: news: the Spanish version is a related link, by its language",
      any(l.rel == "related" and l.get("hreflang") == "es" and l.href == url + "news/es.html" and
          l.title == "Noticias trimestrales" for l in news.links))
check("feed: updated is the newest entry's", calendar.timegm(f.feed.updated_parsed) == sent["halfway"])

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.h2, self.titles, self.lang = [], False, [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h2":
            self.h2 = True
        if tag == "a" and self.h2:
            self.links.append(a["href"])
        if tag == "a":
            self.all = getattr(self, "all", []) + [a["href"]]
    def handle_endtag(self, tag):
        if tag == "h2":
            self.h2 = False
    def handle_data(self, data):
        if self.h2:
            self.titles.append(data)
ix = Links()
ix.feed(open(os.path.join(site, "index.html"), encoding="utf-8").read())
check("index: every public release, newest first (%s)" % ix.links,
      ix.links == [r + "/index.html" for r in want])
check("index: titles from the snapshots (%s)" % ix.titles,
      ix.titles == ["Half delivered", "Second release: bold & more", "Quarterly news"])
check("index: every link leads to a file of the site",
      all(h.startswith("http") or os.path.isfile(os.path.join(site, h)) for h in ix.all))
check("index: the Spanish version is linked", "news/es.html" in ix.all)
for rid in want:
    p = Links()
    p.feed(open(os.path.join(site, rid, "index.html"), encoding="utf-8").read())
    check("page %s: its links lead to files of the site" % rid,
          all(h.startswith("http") or os.path.isfile(os.path.join(site, rid, h)) for h in p.all))
es = Links()
page = open(os.path.join(site, "news", "es.html"), encoding="utf-8").read()
es.feed(page)
check("news/es.html: lang es, the Spanish title, the release's contact",
      es.lang == "es" and "<h1>Noticias trimestrales</h1>" in page and "Press office" in page)
page = open(os.path.join(site, "news", "index.html"), encoding="utf-8").read()
check("news/index.html: the snapshot's title, its body, no script",
      "<h1>Quarterly news</h1>" in page and "Something happened." in page and
      "<script" not in page and "Edited" not in page)
check("news/index.html: its canonical address",
      '<link rel="canonical" href="%snews/">' % url in page)
for absent in ("private", "early", "later", "unsent"):
    check("%s: no page, not on the index, not in the feed" % absent,
          not os.path.exists(os.path.join(site, absent)) and
          absent + "/" not in open(os.path.join(site, "index.html")).read() and
          ":" + absent + "<" not in open(os.path.join(site, "feed.atom")).read())
PY
"$PY" "$SCRATCH/site.py" "$W" "$SCRATCH/sent.tsv" "https://press.news.example/releases/" \
	>"$SCRATCH/site.checks" 2>&1
ok_checks "$SCRATCH/site.checks" "the site reads back"

# ---- valid HTML, public files, nothing of a subscriber ----
bad=""
for f in "$W/index.html" "$W"/*/*.html; do
	tidy -e -q "$f" >"$SCRATCH/tidy.out" 2>&1 || { bad="$bad ${f#"$W"/}"; diag <"$SCRATCH/tidy.out"; }
done
ok "$(test -z "$bad"; echo $?)" "tidy finds no error or warning in any page${bad:+ (not:$bad)}"
ok "$(test -z "$(find "$W" -name '*.html' ! -perm 0644; find "$W" -mindepth 1 -type d ! -perm 0755;
	find "$W" -name '*.tmp')"; echo $?)" "pages are 0644, folders 0755, no temporary file is left"
# Every address, field and token the sink saw: in the messages' envelopes,
# Message-IDs and List-Unsubscribe.
"$PY" - "$S" >"$SCRATCH/secrets" <<'PY'
import email, glob, json, os, re, sys
seen = set()
for eml in glob.glob(os.path.join(sys.argv[1], "*.eml")):
    env = json.load(open(eml[:-4] + ".json"))
    seen.update(env["rcpt_tos"])
    seen.add(env["mail_from"])
    m = email.message_from_bytes(open(eml, "rb").read())
    seen.add(re.search(r"<[^.]+\.([^@]+)@", m["Message-ID"]).group(1))
    for t in re.findall(r"\+([^@>]+)@", m["List-Unsubscribe"] + " " + env["mail_from"]):
        seen.add(t)
print("\n".join(sorted(seen)))
PY
awk 'BEGIN { for (i = 1; i <= 20; i++) printf "Person %04d\nOrg %04d\n", i, i }' >>"$SCRATCH/secrets"
printf 'Partner One\nPartner Two\n' >>"$SCRATCH/secrets"
n=$(wc -l <"$SCRATCH/secrets")
found=$(grep -rlF -f "$SCRATCH/secrets" "$W" "$P/public" 2>/dev/null)
ok "$(test "$n" -gt 60 && test -z "$found"; echo $?)" \
	"none of $n addresses, tokens and subscriber fields is in any file of the site${found:+: $found}"
found=$(grep -rl '@' "$W" "$P/public")
ok "$(test -z "$found"; echo $?)" "no '@' in any file at all${found:+: $found}"

# ---- a second run changes nothing ----
"$HERALD" -C "$P" archive >"$SCRATCH/arch2.out" 2>&1
grep -q '; 0 files written, 0 removed$' "$SCRATCH/arch2.out"
ok $? "a second run writes nothing: every file is the same"
diag <"$SCRATCH/arch2.out"

# ---- renamed into place: a reader polling the site never sees half a file ----
cat >"$SCRATCH/reader.py" <<'PY'
import os, sys
site, stop = sys.argv[1], sys.argv[2]
reads = torn = 0
while not os.path.exists(stop) or reads < 200:
    for f in ("index.html", "news/index.html", "feed.atom"):
        data = open(os.path.join(site, f), "rb").read()
        reads += 1
        if not (data.rstrip().endswith(b"</html>") or data.rstrip().endswith(b"</feed>")):
            torn += 1
print(reads, torn)
PY
"$PY" "$SCRATCH/reader.py" "$W" "$SCRATCH/stop" >"$SCRATCH/reader.out" 2>&1 &
READER=$!
for i in $(seq 1 30); do
	# Each run changes every file: the address the site is served at.
	sed -i "s|archive_url: https://press[0-9]*\.|archive_url: https://press$i.|" "$P/config/herald.yaml"
	"$HERALD" -C "$P" archive >/dev/null 2>&1 || echo "run $i failed" >>"$SCRATCH/runs.err"
done
touch "$SCRATCH/stop"
wait $READER
read -r reads torn <"$SCRATCH/reader.out"
ok "$(test -n "$reads" && test "$torn" -eq 0 && test ! -s "$SCRATCH/runs.err"; echo $?)" \
	"30 rewrites while $reads reads: none saw a torn file (torn: $torn)"
sed -i "s|archive_url: https://press[0-9]*\.|archive_url: https://press.|" "$P/config/herald.yaml"
"$HERALD" -C "$P" archive >/dev/null 2>&1

# ---- a page no longer published goes; nothing herald did not write does ----
mkdir -p "$W/mine"
echo "mine" >"$W/mine/index.html"
echo "notes" >"$W/news/notes.txt"
echo "halfway/old.html" >>"$W/.herald-archive"
"$HERALD" -C "$P" cancel halfway >"$SCRATCH/cancel.out" 2>&1
ok $? "halfway is cancelled (the deferred partner will not get it)"
"$HERALD" -C "$P" archive >"$SCRATCH/arch3.out" 2>&1
grep -q '^archive: 2 releases (3 pages) in site/; .*, 1 removed$' "$SCRATCH/arch3.out"
ok "$(test $? -eq 0 && test ! -e "$W/halfway" && ! grep -q halfway "$W/index.html" "$W/feed.atom"; echo $?)" \
	"a cancelled release's page, its folder, its index and feed entries are removed"
diag <"$SCRATCH/arch3.out"
ok "$(test -f "$W/mine/index.html" && test -f "$W/news/notes.txt"; echo $?)" \
	"files herald did not write are left alone"

# ---- a press kit: the files and images a page shows travel with it ----
mkdir -p "$P/files"
head -c 3000 /dev/urandom >"$P/files/report 2026.pdf"
"$PY" -c 'import base64, sys; open(sys.argv[1], "wb").write(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))' \
	"$P/files/photo.png"
cat >"$P/releases/kit.yaml" <<'EOF'
title: With a press kit
lists: [a]
attachments: ["files/report 2026.pdf"]
body: |
  The report is attached.

  ![The team](files/photo.png)
EOF
"$HERALD" -C "$P" send kit >"$SCRATCH/kit.out" 2>&1
ok $? "kit, with a file and an image, is sent"
diag <"$SCRATCH/kit.out"
"$HERALD" -C "$P" archive >"$SCRATCH/arch-kit.out" 2>&1
ok "$(test $? -eq 0 && cmp -s "$P/files/report 2026.pdf" "$W/kit/report 2026.pdf" &&
	cmp -s "$P/files/photo.png" "$W/kit/photo.png" &&
	test "$(stat -c %a "$W/kit/report 2026.pdf")" = 644; echo $?)" \
	"the release's folder holds a copy of the file and of the image, byte for byte, 0644"
diag <"$SCRATCH/arch-kit.out"
ok "$(grep -q '<a href="report%202026.pdf">report 2026.pdf</a>' "$W/kit/index.html" &&
	grep -q '<img src="photo.png" alt="The team"' "$W/kit/index.html" &&
	! grep -q 'files/' "$W/kit/index.html"; echo $?)" \
	"the page links the file and shows the image by their copies, and names no project path"
grep -E 'href="report|img' "$W/kit/index.html" | diag
ok "$(grep -qx 'kit/report 2026.pdf' "$W/.herald-archive" && grep -qx 'kit/photo.png' "$W/.herald-archive"; echo $?)" \
	"the copies are in the list of what herald wrote"
mv "$P/files/photo.png" "$P/files/photo.png.keep"
"$HERALD" -C "$P" archive >"$SCRATCH/arch-kit2.out" 2>&1
ok "$(test $? -eq 0 && grep -q 'archive: release kit: files/photo.png: ' "$SCRATCH/arch-kit2.out" &&
	test ! -e "$W/kit/photo.png" && test -f "$W/kit/index.html"; echo $?)" \
	"an image gone from the project: said, its copy removed, the page still written"
diag <"$SCRATCH/arch-kit2.out"
cp "$P/files/photo.png.keep" "$P/files/photo.png"
"$HERALD" -C "$P" archive >"$SCRATCH/arch-kit3.out" 2>&1
ok "$(test $? -eq 0 && cmp -s "$P/files/photo.png" "$W/kit/photo.png" &&
	! grep -q warning "$SCRATCH/arch-kit3.out"; echo $?)" "back in the project, the image is copied again"

# ---- templates/archive.yaml ----
cat >"$P/templates/archive.yaml" <<'EOF'
html: |
  <p>{{release.title}} for {{subscriber.email}} {{unsubscribe.url}}</p>
EOF
cp "$W/index.html" "$SCRATCH/index.before"
"$HERALD" -C "$P" check >"$SCRATCH/check2.out" 2>&1
st=$?
ok "$(test $st -eq 65 && grep -q "templates/archive.yaml:2:28: unknown name 'subscriber.email'" "$SCRATCH/check2.out" &&
	grep -q "templates/archive.yaml:2:49: unknown name 'unsubscribe.url'" "$SCRATCH/check2.out"; echo $?)" \
	"check: a page has no subscriber.* and no unsubscribe.*, at their line and column (got $st)"
diag <"$SCRATCH/check2.out"
"$HERALD" -C "$P" archive >"$SCRATCH/arch4.out" 2>&1
st=$?
ok "$(test $st -eq 65 && cmp -s "$W/index.html" "$SCRATCH/index.before" &&
	grep -q "archive.yaml:2:28: unknown name 'subscriber.email'" "$SCRATCH/arch4.out"; echo $?)" \
	"archive refuses it too (65) and writes nothing (got $st)"
cat >"$P/templates/archive.yaml" <<'EOF'
html: |
  {{> html-head}}
  <body><h1 class="own">{{release.title}}</h1>{{{release.body_html}}}
  <p>{{#lists}}{{name}}{{/lists}} - {{release.date}} - <a href="{{archive.index}}">all</a></p></body></html>
EOF
cat >"$P/templates/archive.es.yaml" <<'EOF'
html: |
  {{> html-head}}
  <body><h1 class="propio">{{release.title}}</h1></body></html>
EOF
cat >"$P/templates/partials/html-head.mustache" <<'EOF'
<!DOCTYPE html>
<html lang="{{release.lang}}"><head><meta charset="utf-8"><title>{{release.title}}</title></head>
EOF
"$HERALD" -C "$P" check >"$SCRATCH/check3.out" 2>&1
ok $? "check: a valid templates/archive.yaml and its es variant"
diag <"$SCRATCH/check3.out"
"$HERALD" -C "$P" archive >"$SCRATCH/arch5.out" 2>&1
ok "$(test $? -eq 0 && grep -q '<h1 class="own">Quarterly news</h1>' "$W/news/index.html" &&
	grep -q 'Generated - ' "$W/news/index.html" &&
	grep -q '<h1 class="propio">Noticias trimestrales</h1>' "$W/news/es.html"; echo $?)" \
	"pages go through templates/archive.yaml, and archive.es.yaml for Spanish"
diag <"$SCRATCH/arch5.out"
rm "$P/templates/archive.yaml" "$P/templates/archive.es.yaml" "$P/templates/partials/html-head.mustache"
"$HERALD" -C "$P" archive >/dev/null 2>&1

# ---- bad keys ----
printf 'title: Bad\nlists: [a]\npublic: maybe\n' >"$P/releases/bad.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/check4.out" 2>&1
st=$?
ok "$(test $st -eq 65 && grep -q "releases/bad.yaml:3:9: 'public' must be true or false" "$SCRATCH/check4.out"; echo $?)" \
	"check: public: maybe is an error at its line and column (got $st)"
rm "$P/releases/bad.yaml"
cp "$P/config/herald.yaml" "$SCRATCH/herald.yaml"
sed -i 's|archive_url: https://press.news.example/releases/|archive_url: https://press.news.example/releases|' "$P/config/herald.yaml"
"$HERALD" -C "$P" check >"$SCRATCH/check5.out" 2>&1
st=$?
ok "$(test $st -eq 78 && grep -q "config/herald.yaml:[0-9]*:16: 'archive_url' must end in '/'" "$SCRATCH/check5.out"; echo $?)" \
	"check: an archive_url without its final '/' is a configuration error (got $st)"
cp "$SCRATCH/herald.yaml" "$P/config/herald.yaml"

# ---- release.url in the sample template's messages ----
cp "$TOP/templates/press-release.yaml" "$P/templates/"
cp "$TOP/templates/partials/"*-html.mustache "$TOP/templates/partials/"*-text.mustache \
	"$TOP/templates/partials/html-head.mustache" "$P/templates/partials/"
for r in news private; do
	{ echo "id: $r"; echo "template: press-release"; cat "$P/releases/$r.yaml"; } >"$SCRATCH/$r.yaml"
done
"$HERALD" -C "$P" preview "$SCRATCH/news.yaml" --lang es >"$SCRATCH/news.eml" 2>&1
"$HERALD" -C "$P" preview "$SCRATCH/private.yaml" >"$SCRATCH/private.eml" 2>&1
"$PY" - "$SCRATCH/news.eml" "$SCRATCH/private.eml" >"$SCRATCH/url.checks" 2>&1 <<'PY'
import email, email.policy, sys
def parts(path):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    return m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content()
def check(name, cond):
    print("%s\t%d" % (name, 0 if cond else 1))
text, html = parts(sys.argv[1])
url = "https://press.news.example/releases/news/es.html"
check("a reader of Spanish is sent to the Spanish page", "View online: " + url in text and
      ('<a href="%s"' % url) in html and "View online</a>" in html)
text, html = parts(sys.argv[2])
check("a release with public: false links to no page", "View online" not in text + html)
PY
ok_checks "$SCRATCH/url.checks" "release.url in the sample template"

# ---- herald run: after a send, and at a lift ----
LIFT=$(($(date +%s) + 8))
cat >"$P/releases/lifted.yaml" <<EOF
title: Lifted while the daemon runs
lists: [a]
embargo: $(iso_at $LIFT)
prebrief: { lists: [a] }
body: Everyone had it early; the press room shows it at the lift.
EOF
"$HERALD" -C "$P" send lifted >"$SCRATCH/lifted.out" 2>&1
ok $? "lifted goes to all its readers early, before its lift"
cat >"$P/releases/fresh.yaml" <<'EOF'
title: Fresh from the daemon
lists: [a]
body: Sent by herald run.
EOF
"$HERALD" -C "$P" schedule fresh --at "$(iso_at $(($(date +%s) + 2)))" >"$SCRATCH/fresh.out" 2>&1
ok $? "fresh is scheduled 2 s ahead"
LOG="$SCRATCH/run.log"
start_daemon "$P" "$LOG"
ok "$(test ! -e "$W/fresh" && test ! -e "$W/lifted"; echo $?)" "neither is in the press room yet"
wait_file "$W/fresh/index.html" 15
ok $? "herald run sends fresh and rewrites the archive: its page is there"
grep -q 'fresh/index.html' "$W/index.html" && grep -q ':fresh<' "$W/feed.atom"
ok $? "and the index and the feed name it"
ok "$(test ! -e "$W/lifted" && test "$(date +%s)" -lt "$LIFT"; echo $?)" "lifted is not, before its lift"
wait_file "$W/lifted/index.html" 20
ok "$(test $? -eq 0 && test "$(date +%s)" -ge "$LIFT"; echo $?)" \
	"at the lift herald run writes lifted's page, though nothing is sent then"
stop_daemon
ok "$(test "$DAEMON_STATUS" -eq 0 && grep -q 'info archive: ' "$LOG"; echo $?)" \
	"herald run logs each rewrite and stops cleanly"
grep archive "$LOG" | diag

# ---- at a phone's width ----
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
	for f in index.html second/index.html news/es.html; do
		"$PY" "$TOP/tests/tools/layout.py" "$CHROMIUM" "$W/$f" 375 >"$SCRATCH/widths" 2>"$SCRATCH/err"
		got=$(awk '$1 == 375 { print $2 }' "$SCRATCH/widths")
		ok "$(test -n "$got" && test "$got" -le 375; echo $?)" \
			"$f in a 375 px frame needs ${got:-?} px: no sideways scrolling"
		[ -n "$got" ] || diag <"$SCRATCH/err"
	done
else
	skip "the pages at 375 px" "needs chromium"
fi

done_testing
