# imap-lib.sh - a real Dovecot IMAP server on 127.0.0.1 for the `herald
# poll` tests and scripts/bench-poll (the recipe "IMAP: Dovecot, standalone,
# as root" of the shared test-servers notes). POSIX sh (the .t files run
# under dash), and safe under bash's `set -e` (scripts/bench-poll).
# Sourced after lib.sh (which sets TOP), with or without send-lib.sh, in
# either order; a script that does not source lib.sh sets TOP (the
# repository) first.
#
#   start_dovecot              a fresh server: DOVE_DIR DOVE_CONF IMAP_PORT
#                              IMAPS_PORT DOVE_CERT DOVE_PID; user press, password pw
#   stop_dovecot               stop it; returns once both ports can be bound again
#   restart_dovecot            stop, then start on the same ports and mail
#   imap_append FILE [MBOX]    one message in (doveadm save; MBOX created if missing)
#   imap_deliver_many DIR      every file of DIR straight into INBOX's Maildir new/
#   imap_status MBOX FIELD...  "messages=3 unseen=3", in the order asked
#   imap_count MBOX            messages (0 when MBOX does not exist)
#   imap_unseen MBOX           unseen messages
#   imap_subjects MBOX         each message's Subject (decoded), one a line, in UID order
#   imap_uidvalidity MBOX      UIDVALIDITY
#   herald_imap_config [imaps|starttls] [MBOX]
#                              an `imap:` block for config/herald.yaml
#   imap_cleanup               stop the server and remove DOVE_DIR (idempotent)
#
# Cleanup. The master runs in the foreground (dovecot -F) as a background
# child of this shell, so `wait` tells exactly when it has exited (kill -0
# would not: PID 1 here reaps orphans late, and a daemonised master is an
# orphan). imap-lib.sh has its own imap_cleanup and does not use
# send-lib.sh's SERVER_PIDS: start_dovecot prepends imap_cleanup to
# whatever EXIT trap is in force at that moment (send-lib.sh's `cleanup`,
# lib.sh's scratch removal, or none), so the order the libraries were
# sourced in does not matter. A test that sets its own EXIT trap after
# start_dovecot must call imap_cleanup from it.
#
# Never run dovecot inside $(...) or a pipe: the master keeps its stderr
# open and the caller would hang. doveadm is an ordinary command.

IMAP_PY=/usr/bin/python3
DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
DOVE_DIR=""
DOVE_CONF=""
DOVE_CERT=""
DOVE_PID=""
IMAP_PORT=""
IMAPS_PORT=""
HERALD_IMAP_PASSWORD=pw
export HERALD_IMAP_PASSWORD
trap 'exit 1' INT TERM HUP

# _imap_diag: stdin as TAP comments, on stderr (safe inside $(...)).
_imap_diag() { sed 's/^/# /' >&2; }

_imap_doveadm() { doveadm -c "$DOVE_CONF" "$@"; }

# _imap_free_port: a port nothing listens on.
_imap_free_port() { "$IMAP_PY" "$TOP/tests/tools/port.py" free; }

# _imap_trap: put imap_cleanup in front of the EXIT trap in force, once.
# dash has no `trap -p` and does not report traps inside $(...), so the
# listing goes through a file.
_imap_trap() {
	_im_f=$(mktemp)
	trap >"$_im_f"
	_im_old=$(sed -n "s/^trap -- \\(.*\\) EXIT\$/\\1/p" "$_im_f")
	rm -f "$_im_f"
	case $_im_old in
	*imap_cleanup*) return 0 ;;
	esac
	if [ -n "$_im_old" ]; then
		eval "_im_old=$_im_old"	# the listing is quoted for the shell
		# shellcheck disable=SC2064 # expanded now on purpose: the old command
		trap "imap_cleanup; $_im_old" EXIT
	else
		trap imap_cleanup EXIT
	fi
}

# _imap_launch: the master in the foreground as our child, all three
# streams on files; returns once both ports accept connections (about
# 40 ms), or after 10 s with the logs on stderr.
_imap_launch() {
	"$DOVECOT" -F -c "$DOVE_CONF" </dev/null >>"$DOVE_DIR/log/stderr.log" 2>&1 &
	DOVE_PID=$!
	"$IMAP_PY" - "$DOVE_PID" "$IMAP_PORT" "$IMAPS_PORT" <<'PY' && return 0
import socket, sys, time
pid, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
def alive():
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
deadline = time.monotonic() + 10
while ports:
    try:
        socket.create_connection(("127.0.0.1", ports[0]), 0.5).close()
        ports.pop(0)
        continue
    except OSError:
        pass
    if not alive():
        print("dovecot (pid %s) exited before listening" % pid, file=sys.stderr)
        sys.exit(1)
    if time.monotonic() > deadline:
        print("dovecot: port %d not accepting after 10 s" % ports[0], file=sys.stderr)
        sys.exit(1)
    time.sleep(0.01)
PY
	{
		echo "dovecot did not start ($DOVE_CONF, ports $IMAP_PORT $IMAPS_PORT):"
		tail -n 20 "$DOVE_DIR/log/stderr.log" "$DOVE_DIR/log/dovecot.log" 2>/dev/null
	} | _imap_diag
	kill "$DOVE_PID" 2>/dev/null || :
	wait "$DOVE_PID" 2>/dev/null || :
	DOVE_PID=""
	return 1
}

start_dovecot() {
	if [ -n "$DOVE_PID" ]; then
		echo "start_dovecot: already running (pid $DOVE_PID)" | _imap_diag
		return 1
	fi
	_imap_trap
	DOVE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/herald-dovecot.XXXXXX") || return 1
	chmod 755 "$DOVE_DIR"	# nobody and dovecot must traverse it
	DOVE_CONF=$DOVE_DIR/dovecot.conf
	DOVE_CERT=$DOVE_DIR/cert.pem
	IMAP_PORT=$(_imap_free_port)
	IMAPS_PORT=$(_imap_free_port)
	while [ "$IMAPS_PORT" = "$IMAP_PORT" ]; do
		IMAPS_PORT=$(_imap_free_port)
	done
	mkdir -p "$DOVE_DIR/run" "$DOVE_DIR/state" "$DOVE_DIR/log" "$DOVE_DIR/mail"
	chown nobody:nogroup "$DOVE_DIR/mail"
	if ! openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$DOVE_DIR/key.pem" -out "$DOVE_CERT" >"$DOVE_DIR/log/openssl.log" 2>&1; then
		_imap_diag <"$DOVE_DIR/log/openssl.log"
		return 1
	fi
	printf 'press:{PLAIN}pw::::::\n' >"$DOVE_DIR/passwd"
	chmod 644 "$DOVE_DIR/passwd"
	cat >"$DOVE_CONF" <<CONF
instance_name = test-dovecot-$IMAP_PORT
protocols = imap
listen = 127.0.0.1
base_dir = $DOVE_DIR/run
state_dir = $DOVE_DIR/state
log_path = $DOVE_DIR/log/dovecot.log
ssl = yes
ssl_cert = <$DOVE_CERT
ssl_key = <$DOVE_DIR/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVE_DIR/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DOVE_DIR/mail/%u allow_all_users=yes
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
CONF
	_imap_launch
}

# stop_dovecot: SIGTERM to the master (what `dovecot stop` sends), wait
# for it (about 1 s), then until both ports can be bound again.
stop_dovecot() {
	[ -n "$DOVE_PID" ] || return 0
	kill "$DOVE_PID" 2>/dev/null || :
	wait "$DOVE_PID" 2>/dev/null || :
	DOVE_PID=""
	"$IMAP_PY" - "$IMAP_PORT" "$IMAPS_PORT" <<'PY' && return 0
import socket, sys, time
deadline = time.monotonic() + 10
for port in (int(p) for p in sys.argv[1:]):
    while True:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                print("port %d still in use 10 s after dovecot exited" % port, file=sys.stderr)
                sys.exit(1)
            time.sleep(0.02)
        finally:
            s.close()
PY
	return 1
}

restart_dovecot() {
	if [ -z "$DOVE_CONF" ]; then
		echo "restart_dovecot: start_dovecot first" | _imap_diag
		return 1
	fi
	stop_dovecot && _imap_launch
}

# imap_cleanup: returns 0 (a non-zero return would end a `set -e` bash
# script's EXIT trap before the rest of it ran); KEEP=1 keeps DOVE_DIR.
imap_cleanup() {
	stop_dovecot || :
	if [ -n "$DOVE_DIR" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$DOVE_DIR"
		DOVE_DIR=""
	fi
	return 0
}

# imap_append FILE [MAILBOX]: MAILBOX (default INBOX) is created when missing.
imap_append() {
	_im_mb=${2:-INBOX}
	_im_out=$(_imap_doveadm save -u press -m "$_im_mb" <"$1" 2>&1) && return 0
	case $_im_out in
	*"doesn't exist"*)
		_imap_doveadm mailbox create -u press "$_im_mb" &&
		    _imap_doveadm save -u press -m "$_im_mb" <"$1"
		return
		;;
	esac
	echo "imap_append $1 $_im_mb: $_im_out" | _imap_diag
	return 1
}

# imap_deliver_many DIR: each regular file of DIR (sorted by name) as a
# new message of INBOX, as a local delivery agent would: written to tmp/
# under a unique name (time.MusecPpidQn.host), owned by nobody:nogroup,
# mode 0600, renamed into new/. Dovecot sees them at its next sync; this
# checks that it does (the message count grows by exactly as many).
imap_deliver_many() {
	_im_before=$(imap_count INBOX) || return 1
	_im_n=$("$IMAP_PY" - "$1" "$DOVE_DIR/mail/press/Maildir" <<'PY'
import grp, os, pwd, socket, sys, time
src, md = sys.argv[1], sys.argv[2]
uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
for d in ("", "/tmp", "/new", "/cur"):
    if not os.path.isdir(md + d):
        os.mkdir(md + d, 0o700)
        os.chown(md + d, uid, gid)
host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
pid, n = os.getpid(), 0
for name in sorted(os.listdir(src)):
    path = os.path.join(src, name)
    if not os.path.isfile(path):
        continue
    with open(path, "rb") as f:
        data = f.read()
    n += 1
    t = time.time()
    base = "%d.M%dP%dQ%d.%s" % (t, int(t * 1e6) % 1000000, pid, n, host)
    tmp = md + "/tmp/" + base
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data)
    os.fchown(fd, uid, gid)
    os.close(fd)
    os.rename(tmp, md + "/new/" + base)
print(n)
PY
	) || return 1
	_im_after=$(imap_count INBOX) || return 1
	if [ "$_im_after" -ne $((_im_before + _im_n)) ]; then
		echo "imap_deliver_many: wrote $_im_n into new/, but INBOX went from $_im_before to $_im_after messages" | _imap_diag
		return 1
	fi
}

# imap_status MAILBOX FIELD...: FIELD=value, space-separated, in the order
# given (fields may also come as one argument, "messages unseen").
imap_status() {
	_im_mb=$1; shift
	_im_rc=0
	_im_out=$(_imap_doveadm -f tab mailbox status -u press "$*" "$_im_mb" 2>"$DOVE_DIR/log/doveadm.err") || _im_rc=$?
	if [ $_im_rc -ne 0 ]; then
		_imap_diag <"$DOVE_DIR/log/doveadm.err"
		return $_im_rc
	fi
	printf '%s\n' "$_im_out" | awk -F'\t' -v want="$*" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		NR == 2 {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++)
				printf "%s%s=%s", (i > 1 ? " " : ""), w[i], (w[i] in col ? $(col[w[i]]) : "")
			print ""
		}'
}

_imap_field() { # MAILBOX FIELD: the value alone
	_im_v=$(imap_status "$1" "$2") || return 1
	echo "${_im_v#*=}"
}

imap_count() {
	_im_rc=0
	_im_out=$(imap_status "$1" messages 2>&1) || _im_rc=$?
	case $_im_rc in
	0) echo "${_im_out#messages=}" ;;
	*)
		case $_im_out in
		*"doesn't exist"*) echo 0 ;;
		*) printf '%s\n' "$_im_out" >&2; return 1 ;;
		esac
		;;
	esac
}

imap_unseen() { _imap_field "$1" unseen; }
imap_uidvalidity() { _imap_field "$1" uidvalidity; }

# imap_subjects MAILBOX: hdr.subject.utf8 is unfolded and MIME-decoded;
# "" for a message without one. Fetching headers sets no flag.
imap_subjects() {
	_im_rc=0
	_im_out=$(_imap_doveadm -f tab fetch -u press hdr.subject.utf8 mailbox "$1" 2>"$DOVE_DIR/log/doveadm.err") || _im_rc=$?
	if [ $_im_rc -ne 0 ]; then
		_imap_diag <"$DOVE_DIR/log/doveadm.err"
		return $_im_rc
	fi
	printf '%s\n' "$_im_out" | sed 1d
}

# herald_imap_config [imaps|starttls] [MAILBOX]: append it to a project's
# config/herald.yaml (send-lib.sh's project() writes top-level mappings, so
# the block goes at the end). config.c's `imap:` keys: url username
# password_env password_file ca_file mailbox poll -- no `tls:` (a literal
# `password:` is refused), so nothing selects STARTTLS but the imap:// URL.
herald_imap_config() {
	HERALD_IMAP_PASSWORD=pw
	export HERALD_IMAP_PASSWORD
	case ${1:-imaps} in
	imaps) _im_url=imaps://127.0.0.1:$IMAPS_PORT ;;
	starttls) _im_url=imap://127.0.0.1:$IMAP_PORT ;;
	*) echo "herald_imap_config: imaps or starttls, not '$1'" | _imap_diag; return 1 ;;
	esac
	cat <<EOF
imap:
  url: $_im_url
  username: press
  password_env: HERALD_IMAP_PASSWORD
  ca_file: $DOVE_CERT
  mailbox: ${2:-INBOX}
  poll: 1s
EOF
}
