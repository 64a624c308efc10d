/*
 * main.c - global options, the command table, usage. Thin.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "diag.h"
#include "segment.h"
#include "version.h"

static const struct command commands[] = {
	{ "init", "[DIR]",
	  "make a new project to send from: config, a list, templates, a release",
	  "Makes DIR (default: the current folder) if it is missing and writes a\n"
	  "project into it:\n"
	  "  config/herald.yaml        the sender and the relay (smtp://127.0.0.1:25),\n"
	  "                            every optional key shown commented out\n"
	  "  lists/press.yaml          a list with two example subscribers\n"
	  "  templates/                the press-release and digest templates and\n"
	  "                            their partials\n"
	  "  releases/first-release.yaml   an example release\n"
	  "Then: edit the config and the list, herald check, herald preview\n"
	  "first-release, herald send first-release --dry-run.\n"
	  "\n"
	  "It never overwrites: when any of these files exists, it names it and\n"
	  "writes nothing.\n"
	  "\n"
	  "Exit status: 0 made; 64 bad usage; 73 a file exists, or a file or folder\n"
	  "cannot be created (what was made is removed).\n",
	  cmd_init },
	{ "check", "",
	  "validate the configuration, lists, templates and releases",
	  "Reads config/herald.yaml and every list, template and release it\n"
	  "points to. Prints \"configuration OK\", or every problem found, one per\n"
	  "line as FILE:LINE:COL: message. Nothing is sent. It warns (exit 0) of\n"
	  "what is valid but will hurt: nothing reads unsubscribe requests (no\n"
	  "imap and no http section), no sender.postal_address, a release whose\n"
	  "message is over 100 KB (Gmail clips it, and the footer with it).\n"
	  "\n"
	  "Exit status: 0 all valid; 65 a list, template or release is invalid;\n"
	  "78 the configuration itself is invalid.\n",
	  cmd_check },
	{ "preview", "RELEASE [--list ID] [--to EMAIL] [--lang LANG] [--where KEY=VALUE]... | --digest LIST [--to EMAIL]",
	  "print the exact message one subscriber would get",
	  "RELEASE is a release id (releases/ID.yaml) or the path of a release file.\n"
	  "\n"
	  "  -l, --list ID     the list to preview for (default: the release's first list)\n"
	  "  -t, --to EMAIL    the subscriber (default: the list's first subscriber\n"
	  "                    who receives each release), of its file or a member\n"
	  "                    who joined it; an address not on the list is\n"
	  "                    rendered with no subscriber fields but the address\n"
	  "  --lang LANG       as a reader of LANG gets it (es, pt-BR): the release's\n"
	  "                    translation and the template's variant for LANG\n"
	  "                    (default: the subscriber's lang, else the list's)\n"
	  "  -w, --where KEY=VALUE  the default subscriber is the first in this\n"
	  "                    segment, as for send --where; --to someone it leaves\n"
	  "                    out is rendered with a note\n"
	  "  -d, --digest LIST the message the list's next digest would be, for --to\n"
	  "                    (a digest subscriber; default: the first one it would\n"
	  "                    go to); 65 when it would carry nothing for them\n"
	  "\n"
	  "The whole RFC 5322 message, CRLF line ends, goes to standard output.\n"
	  "Nothing is sent and nothing is recorded. Message-ID and tokens are\n"
	  "made under state/secret, which is created (mode 0600) if missing.\n"
	  "HERALD_NOW=2017-06-22T09:00:00-03:00 fixes the Date header's time.\n"
	  "\n"
	  "Exit status: 0 printed; 64 bad usage; 65 invalid input; 78 invalid\n"
	  "configuration.\n",
	  cmd_preview },
	{ "send", "RELEASE [--list ID]... [--where KEY=VALUE]... [--dry-run] [--yes] | RELEASE --test EMAIL... [--as SUBSCRIBER] [--where KEY=VALUE]...",
	  "deliver a release now, in the foreground",
	  "Expands the release's lists (or each --list: its file's subscribers and\n"
	  "its members, herald import) into the journal, minus suppressed\n"
	  "addresses, then sends one personalised message to each\n"
	  "recipient through the relay, at the configured rates. Every outcome is\n"
	  "recorded; running send again resumes where it stopped, and nobody gets\n"
	  "the release twice (except the few messages in flight at a crash).\n"
	  "Every send reaches each current recipient who has not had the release:\n"
	  "a send to a test list first does not use it up, and a release that is\n"
	  "done goes to a subscriber added since.\n"
	  "\n"
	  "  -l, --list ID     send to this list (repeatable) instead of the release's\n"
	  "  -w, --where KEY=VALUE  only the subscribers whose field KEY is VALUE\n"
	  "                    (exact text; repeatable: one key's values are ORed,\n"
	  "                    keys ANDed); a KEY replaces the release's `where` for\n"
	  "                    that key, other keys of it still apply. A subscriber\n"
	  "                    left out gets no journal row: a later send with\n"
	  "                    another segment can reach them\n"
	  "  -n, --dry-run     expand and render everything, send nothing, write\n"
	  "                    nothing; say how many the send would mail now, and\n"
	  "                    how many subscribers the segment keeps and leaves out\n"
	  "  -t, --test EMAIL  a test: the message --as SUBSCRIBER (default: the\n"
	  "                    first subscriber of the release's first list in the\n"
	  "                    segment) would\n"
	  "                    get, \"[TEST] \" before its subject, to EMAIL\n"
	  "                    (repeatable). Not a delivery: nothing is recorded,\n"
	  "                    embargo and expiry are not checked, and its tokens\n"
	  "                    act on nobody\n"
	  "  -a, --as SUBSCRIBER  whose message a test is\n"
	  "  -y, --yes         do not ask first; on a terminal, send asks \"send\n"
	  "                    RELEASE to N recipients on LISTS? [y/N]\" and sends\n"
	  "                    only on y (without a terminal it never asks)\n"
	  "\n"
	  "A progress bar is shown on a terminal, log lines otherwise. Ctrl-C (or\n"
	  "SIGTERM) lets the messages in flight finish and leaves the rest queued.\n"
	  "\n"
	  "Exit status: 0 all delivered (or failed for good); 75 some deliveries\n"
	  "wait for a retry, the release is under embargo, send was interrupted,\n"
	  "or the answer to its question was not y;\n"
	  "69 the relay cannot be reached (nothing lost); 65 invalid input, an\n"
	  "expired release, or nobody to send it to (empty lists, everyone\n"
	  "suppressed, a segment that keeps nobody; the release is not marked\n"
	  "done); 64 bad usage, a bad --where among them; 78 configuration error\n"
	  "(a refused login among them).\n",
	  cmd_send },
	{ "schedule", "RELEASE [--at TIME [--tz ZONE]] [--list ID]... [--where KEY=VALUE]...",
	  "record when a release goes out; herald run sends it then",
	  "TIME is ISO 8601 with a UTC offset (2017-06-22T09:00:00-03:00), or a\n"
	  "local time (2017-06-22T09:00) with --tz ZONE, an IANA zone such as\n"
	  "America/Argentina/Buenos_Aires. The release file is checked and its\n"
	  "snapshot kept in the journal: what is sent is the release as it was\n"
	  "when scheduled. A time before the release's embargo, or not before its\n"
	  "expiry, is refused, and so is a time already past (more than a minute\n"
	  "ago): use herald send to send now. Without --at: the release's\n"
	  "pre-briefing time (now when it has none), else its embargo; with a\n"
	  "pre-briefing, herald run sends the early wave then and the rest at\n"
	  "the lift.\n"
	  "\n"
	  "  --at TIME         when (default: the release's own time, as above)\n"
	  "  --tz ZONE         the zone of a TIME without offset\n"
	  "  -l, --list ID     send to this list (repeatable) instead of the release's\n"
	  "  -w, --where KEY=VALUE  the segment, as for send --where (repeatable);\n"
	  "                    kept in the journal: herald run sends to it\n"
	  "\n"
	  "Exit status: 0 scheduled; 64 bad or missing --at, or a bad --where; 65\n"
	  "invalid input, or already scheduled or sent; 78 configuration error.\n",
	  cmd_schedule },
	{ "reschedule", "RELEASE --at TIME [--tz ZONE]",
	  "move a scheduled (or cancelled) release to another time",
	  "TIME as for schedule. The snapshot taken at scheduling is kept.\n"
	  "\n"
	  "Exit status: 0 rescheduled; 64 bad --at; 65 not in the journal, or\n"
	  "already sending or sent.\n",
	  cmd_reschedule },
	{ "cancel", "RELEASE",
	  "cancel a scheduled release, or the rest of one being sent",
	  "A scheduled release will not be sent. For one being sent, deliveries\n"
	  "not yet sent are marked failed (\"cancelled\"); messages in flight finish.\n"
	  "\n"
	  "Exit status: 0 cancelled; 65 not in the journal, or already done.\n",
	  cmd_cancel },
	{ "status", "[RELEASE] [--json] [--utc]",
	  "where each release stands: counts by state, commonest SMTP replies",
	  "  -j, --json        one JSON object per release (an array without\n"
	  "                    RELEASE): \"release\", \"state\", \"scheduled_at\",\n"
	  "                    \"file_changed\", a count for each delivery state\n"
	  "                    (\"queued\", \"sending\", \"sent\", \"deferred\",\n"
	  "                    \"failed\", \"skipped\", \"bounced\") and \"replies\":\n"
	  "                    [{\"reply\": \"450 4.2.2 ...\", \"count\": N}], the\n"
	  "                    commonest last replies of deferred and failed rows,\n"
	  "                    \"segment\" (null: everyone on the lists) with\n"
	  "                    \"segment_kept\" and \"segment_left_out\", what the last\n"
	  "                    send's segment kept. Times in it are UTC.\n"
	  "  -u, --utc         times in UTC; without it the table shows them in the\n"
	  "                    config's tz, with their offset, when one is set\n"
	  "\n"
	  "Exit status: 0; 65 RELEASE is not in the journal.\n",
	  cmd_status },
	{ "suppress", "EMAIL [--list ID]",
	  "never mail EMAIL again (from one list, or from every list)",
	  "  -l, --list ID     only for this list (default: every list)\n"
	  "\n"
	  "Suppressed recipients are recorded as skipped when a release is sent.\n",
	  cmd_suppress },
	{ "unsuppress", "EMAIL [--list ID]",
	  "mail EMAIL again",
	  "  -l, --list ID     the list-specific suppression (default: the one for\n"
	  "                    every list)\n",
	  cmd_unsuppress },
	{ "suppressed", "[--json]",
	  "list suppressed addresses, with reason and source",
	  "  -j, --json        a JSON array of {\"address\", \"list\" (null: every\n"
	  "                    list), \"reason\", \"source\", \"since\"}\n",
	  cmd_suppressed },
	{ "subscribers", "LIST [--json|--csv]",
	  "list a list's subscribers: its file's and those who joined, and from where",
	  "A list is the subscribers of its file plus its members, who joined it\n"
	  "(herald import), minus suppressed addresses. For an address that is in\n"
	  "the file and a member too, the file's entry is the one. One line each:\n"
	  "the address, name, delivery and where it came from (the file and line,\n"
	  "or when it joined and how, with what confirms it: the CSV file and row\n"
	  "of an import, the confirming message's Message-ID, the client's\n"
	  "address), and \"suppressed\" with the reason when it is; then counts.\n"
	  "\n"
	  "  -j, --json        a JSON array of {\"email\", \"name\", \"delivery\",\n"
	  "                    \"source\" (\"file\", \"import\", \"mail\", \"web\"),\n"
	  "                    \"file\" and \"line\" (the file's; else null),\n"
	  "                    \"joined\" (UTC) and \"ref\" (a member's; else null),\n"
	  "                    \"suppressed\"}\n"
	  "  -c, --csv         the same as CSV, with a header row\n"
	  "\n"
	  "Exit status: 0; 64 bad usage; 65 an unknown or invalid list; 73 the\n"
	  "journal cannot be opened; 78 configuration error.\n",
	  cmd_subscribers },
	{ "import", "LIST FILE.csv",
	  "add people to a list from a CSV file: a member a row",
	  "FILE.csv is UTF-8 (a byte order mark is skipped), RFC 4180: fields\n"
	  "separated by commas, quoted with \" when they hold a comma, a quote\n"
	  "(doubled: \"\") or a line break. Its first row names the columns:\n"
	  "  email             the address (required; \"Name <addr>\" names them too)\n"
	  "  name              the name\n"
	  "  lang, tz          the reader's language (es, pt-BR) and time zone\n"
	  "                    (America/Argentina/Buenos_Aires), checked as in a list\n"
	  "  delivery          each (the default) or digest\n"
	  "  anything else     a template field (subscriber.COLUMN); a list with\n"
	  "                    `fields:` takes only those\n"
	  "herald's columns are read in any case (Email, NAME). An empty cell is no\n"
	  "value. A field may hold line breaks; the name may not.\n"
	  "\n"
	  "Each row becomes a member of LIST in the journal, recorded as imported\n"
	  "now from FILE:LINE; the rows go in one transaction. A bad row is\n"
	  "reported as FILE:LINE: message (LINE: where the row starts) and\n"
	  "skipped; the others are imported. A member already there gets the row's\n"
	  "name, fields, lang, tz and delivery, and keeps how and when it joined:\n"
	  "importing the same file twice changes nothing (\"N unchanged\"). A\n"
	  "suppressed address is imported and stays suppressed. An address that\n"
	  "is also in the list's file gets what the file says.\n"
	  "\n"
	  "Exit status: 0 imported; 65 an invalid list, a bad header row (nothing\n"
	  "imported), or bad rows (the others imported); 66 FILE cannot be read;\n"
	  "64 bad usage; 73 the journal cannot be opened; 78 configuration error.\n",
	  cmd_import },
	{ "export", "LIST",
	  "write a list's subscribers as CSV: its file's and its members",
	  "To standard output, RFC 4180, lines ending in CRLF: a header row\n"
	  "email,name, then every template field some subscriber has, then lang,\n"
	  "tz and delivery when some subscriber has them; then a row for each\n"
	  "subscriber of the file, in its order, and each member the file does not\n"
	  "have, in the order they joined. Suppressed addresses are left out (said\n"
	  "on standard error). herald import reads it back.\n"
	  "\n"
	  "Exit status: 0; 64 bad usage; 65 an unknown or invalid list; 73 the\n"
	  "journal cannot be opened; 74 standard output cannot be written; 78\n"
	  "configuration error.\n",
	  cmd_export },
	{ "run", "[--syslog]",
	  "the daemon, in the foreground: schedules, retries, the mailbox, digests",
	  "Sends scheduled releases when they fall due (never after their expires),\n"
	  "retries deferred deliveries at their time, reads the mailbox every\n"
	  "imap.poll and sends digests on their lists' digest.schedule; sleeps in\n"
	  "between. One per journal (its run lease). SIGTERM or SIGINT: the\n"
	  "SMTP transactions in flight finish, then exit 0. SIGHUP: the\n"
	  "configuration is read again (a broken one is reported and not used).\n"
	  "\n"
	  "  -s, --syslog      log to syslog (facility mail) instead of standard error\n"
	  "\n"
	  "Exit status: 0 stopped by a signal; 75 another herald run uses the state\n"
	  "folder; 73 the journal cannot be opened; 78 configuration error.\n",
	  cmd_run },
	{ "poll", "",
	  "read the mailbox once: act on bounces and unsubscribes, then exit",
	  "Reads every new message of imap.mailbox and classifies it:\n"
	  "  bounce        a hard bounce suppresses the address for every list and\n"
	  "                marks its delivery bounced; soft bounces score at most a\n"
	  "                point a day, and bounces.soft_threshold points within\n"
	  "                bounces.soft_window suppress the address\n"
	  "  unsubscribe   by unsubscribe+TOKEN@, or a reply to one of our messages:\n"
	  "                suppressed for that list at once, and a notice is sent;\n"
	  "                without a token, a confirmation mail is sent instead, and\n"
	  "                the reply to it unsubscribes from every list\n"
	  "  auto-reply    nothing to do\n"
	  "  human         left exactly as it was: not moved, not marked seen\n"
	  "What herald handled is moved into Herald/Bounces, Herald/Unsubscribes\n"
	  "and Herald/AutoReplies (created when missing). Each message is acted on\n"
	  "once, even across restarts. A lost connection is retried after 1, 2, 4,\n"
	  "8 and 16 s. Then notices and confirmations go out through smtp.url.\n"
	  "\n"
	  "Exit status: 0; 69 the server stayed unreachable; 73 the journal cannot\n"
	  "be written; 78 no imap section, or the server's certificate or the login\n"
	  "was refused.\n",
	  cmd_poll },
	{ "digest", "LIST [--dry-run]",
	  "send the list's due digest now (for cron); nothing due: no mail",
	  "Subscribers with delivery: digest get no message per release. This\n"
	  "sends each of them one message, from the list's digest template,\n"
	  "carrying every release sent to the list that they have not had, by an\n"
	  "earlier digest or by a delivery of their own. What each digest carries\n"
	  "is recorded per subscriber, so nothing is repeated or missed, and a\n"
	  "second run sends nothing (\"nothing new since the last digest\"). The\n"
	  "list's digests still being sent (deferred deliveries, a crash) are\n"
	  "resumed first. A digest is in the journal as digest.LIST.TIME:\n"
	  "herald status shows it, herald send resumes it.\n"
	  "\n"
	  "  -n, --dry-run     say who the next digest would go to and how many\n"
	  "                    releases it would carry; record and send nothing\n"
	  "                    (herald preview --digest LIST shows one message)\n"
	  "\n"
	  "Exit status: 0 sent, or nothing due (no mail); 75 some deliveries wait\n"
	  "for a retry, or interrupted; 69 the relay cannot be reached; 65 an\n"
	  "unknown list, a list without a digest template, or invalid input; 78\n"
	  "configuration error.\n",
	  cmd_digest },
	{ "classify", "[FILE]",
	  "say what herald makes of one message (a bounce, a reply); touches nothing",
	  "Reads one raw message from FILE or standard input and prints a line per\n"
	  "finding:\n"
	  "  bounce<TAB>hard|soft<TAB>ADDRESS<TAB>STATUS   a failed recipient; hard only\n"
	  "                    when the address itself is bad; STATUS \"-\" when none\n"
	  "                    is given. A recipient named only by the VERP token is\n"
	  "                    printed when the journal verifies it, else no line\n"
	  "  unsubscribe<TAB>ADDRESS<TAB>LIST              a request to unsubscribe; LIST\n"
	  "                    is the list its token names (\"*\": every list, a\n"
	  "                    confirmed request), or \"-\" when no valid token names\n"
	  "                    one: such a request needs confirming\n"
	  "  auto-reply                                    vacation, out of office, a\n"
	  "                    report of success, a read receipt, a complaint, a\n"
	  "                    challenge to prove the sender human\n"
	  "  human                                         anything else\n"
	  "\n"
	  "The config is read when there is one: it names the VERP and unsubscribe\n"
	  "addresses and the domain of our Message-IDs; tokens are verified\n"
	  "against the journal and state/secret when both exist (neither is\n"
	  "created or changed).\n"
	  "\n"
	  "Exit status: 0; 66 FILE cannot be opened; 78 a broken config.\n",
	  cmd_classify },
	{ "archive", "[--out DIR]",
	  "write the press room: a static site and Atom feed of the releases sent",
	  "Writes DIR (default: the config's archive.dir, else public/):\n"
	  "  index.html          every release published, newest first: title, date,\n"
	  "                      summary, its language versions\n"
	  "  RELEASE/index.html  the release, through templates/archive.yaml (its\n"
	  "                      html key; archive.LANG.yaml for a language) when the\n"
	  "                      project has one, else a built-in page\n"
	  "  RELEASE/LANG.html   each translation\n"
	  "  feed.atom           Atom 1.0, an entry per release, updated when it went out\n"
	  "Published: each release that went out (done, or being sent with a\n"
	  "delivery sent), as the journal kept it when it was sent, once its embargo\n"
	  "has lifted; never one that says public: false. Pages hold no\n"
	  "subscriber's address and no token. Each file is written under a\n"
	  "temporary name and renamed, so a web server never serves half a page;\n"
	  "pages of releases no longer published are removed (only those herald\n"
	  "wrote: DIR/.herald-archive lists them). herald run rewrites it after\n"
	  "each send when archive.dir is set. With sender.archive_url, pages and the\n"
	  "feed carry absolute links, and messages release.url.\n"
	  "\n"
	  "  -o, --out DIR     write here instead\n"
	  "\n"
	  "Exit status: 0 written; 65 templates/archive.yaml is invalid (nothing\n"
	  "written); 73 DIR or a file in it cannot be written, or the journal\n"
	  "cannot be read; 78 configuration error.\n",
	  cmd_archive },
	{ "dkim-record", "",
	  "print the DNS TXT record that publishes the DKIM key",
	  "Reads dkim.key_file (RSA or ed25519, as dkim.algorithm says) and prints\n"
	  "the record to publish, in zone-file form:\n"
	  "  SELECTOR._domainkey.DOMAIN. IN TXT \"v=DKIM1; k=rsa; p=...\"\n"
	  "p= is the public key: for RSA its SubjectPublicKeyInfo, for ed25519 its\n"
	  "32 bytes (RFC 8463), in base64. Text longer than 255 bytes is split\n"
	  "into several strings, as DNS requires; they are read as one.\n"
	  "\n"
	  "With dkim configured, every message herald sends is signed with the\n"
	  "key (relaxed/relaxed; From, To, Subject, Date, Message-ID,\n"
	  "MIME-Version, Content-Type, the List-* fields and dkim.headers).\n"
	  "\n"
	  "Exit status: 0 printed; 78 no dkim section, or the key cannot be used.\n",
	  cmd_dkim_record },
};

const struct command *cmd_current;

void
cmd_usage(const struct command *c, FILE *out)
{
	fprintf(out, "usage: herald [-C DIR] [-c FILE] [-v] %s%s%s\n\n%s.\n\n%s", c->name,
	    *c->synopsis ? " " : "", c->synopsis, c->summary, c->help);
}

int
cmd_help_only(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		cmd_usage(cmd_current, c == 'h' ? stdout : stderr);
		return c == 'h' ? 0 : EXIT_USAGE;
	}
	return -1;
}

int
cmd_where(struct segment *sg, const char *arg)
{
	char err[512];

	if (segment_add_arg(sg, arg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "herald: --where %s (give KEY=VALUE, e.g. --where beat=energy)\n", err);
	return EXIT_USAGE;
}

static void
usage(FILE *out)
{
	size_t i;

	fputs("usage: herald [-C DIR] [-c FILE] [-v] COMMAND [ARGS]\n"
	    "\n"
	    "herald sends press releases and newsletters to YAML mailing lists.\n"
	    "\n"
	    "Options:\n"
	    "  -C DIR          change to DIR first (the project folder)\n"
	    "  -c FILE         the configuration (default: $HERALD_CONFIG, else\n"
	    "                  config/herald.yaml)\n"
	    "  -v, --verbose   say more\n"
	    "  -h, --help      this help; `herald COMMAND --help` for a command's\n"
	    "  -V, --version   the version\n"
	    "\n"
	    "Commands:\n", out);
	for (i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fputs("\nExit status follows sysexits.h: 0 ok, 64 usage, 65 bad input data,\n"
	    "69 a server unavailable, 75 temporary failure, 78 configuration error.\n",
	    out);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { NULL, 0 };
	size_t i;
	int c;

	/* The journal holds every subscriber's address: nothing herald creates is for others. */
	umask(077);
	/*
	 * Every message is a few buffers of some KB, made and freed thousands
	 * of times a second: keep freed memory instead of handing it back to
	 * the kernel after each message and asking for it again.
	 */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_TOP_PAD, 1 << 20);

	while ((c = getopt_long(argc, argv, "+C:c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			if (chdir(optarg) == -1) {
				fprintf(stderr, "herald: cannot change to '%s': %s\n", optarg,
				    strerror(errno));
				return EXIT_USAGE;
			}
			break;
		case 'c':
			g.config = optarg;
			break;
		case 'v':
			g.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("herald %s\n", HERALD_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			cmd_current = &commands[i];
			argc -= optind;
			argv += optind;
			optind = 0;	/* glibc: 0 re-initialises getopt for the command's own options */
			return commands[i].run(&g, argc, argv);
		}
	}
	fprintf(stderr, "herald: unknown command '%s'; see herald --help\n", argv[optind]);
	return EXIT_USAGE;
}
