# pg-lib.sh - a real PostgreSQL server in a temporary folder for the tests
# of a journal in PostgreSQL: initdb with trust authentication, started by
# pg_ctl on a free port on 127.0.0.1 with its socket in that folder, as the
# Dovecot tests start theirs. As root the server runs as the `postgres` user
# (runuser), which owns the folder; otherwise as the caller. POSIX sh (the
# .t files run under dash). Sourced after lib.sh (which sets TOP), with or
# without send-lib.sh and imap-lib.sh, in any order.
#
#   start_postgres        a fresh server: PG_DIR PG_PORT PG_URL PG_PID;
#                         role and database `herald`, no password
#   stop_postgres         stop it (fast: sessions are cut); returns once the
#                         server has exited and its port can be bound again
#   restart_postgres      stop, then start on the same port and data
#   pg_sql SQL            SQL as herald on its database; rows unaligned,
#                         fields separated by tabs, no headers
#   pg_cleanup            stop it and remove PG_DIR (idempotent)
#
# PG_BIN is the server's bin folder: PostgreSQL 15's when installed, else
# the newest under /usr/lib/postgresql, else pg_config's. start_postgres
# puts pg_cleanup in front of the EXIT trap in force; a test that sets its
# own EXIT trap after start_postgres must call pg_cleanup from it.
#
# pg_ctl starts the postmaster as a daemon (not our child): PG_PID, from
# its postmaster.pid, is what stop_postgres waits for.

PG_PY=/usr/bin/python3
PG_DIR=""
PG_PORT=""
PG_URL=""
PG_PID=""
if [ -z "${PG_BIN:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
		PG_BIN=/usr/lib/postgresql/15/bin
	else
		PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
		[ -n "$PG_BIN" ] || PG_BIN=$(pg_config --bindir 2>/dev/null)
	fi
fi
trap 'exit 1' INT TERM HUP

# _pg_diag: stdin as TAP comments, on stderr (safe inside $(...)).
_pg_diag() { sed 's/^/# /' >&2; }

# _pg_as_server CMD...: CMD as the user the server runs as.
_pg_as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_available: 0 when a server can be started here.
pg_available() {
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] &&
	    { [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1; }
}

# _pg_trap: put pg_cleanup in front of the EXIT trap in force, once (as
# imap-lib.sh does: dash lists traps only into a file).
_pg_trap() {
	_pg_f=$(mktemp)
	trap >"$_pg_f"
	_pg_old=$(sed -n "s/^trap -- \\(.*\\) EXIT\$/\\1/p" "$_pg_f")
	rm -f "$_pg_f"
	case $_pg_old in
	*pg_cleanup*) return 0 ;;
	esac
	if [ -n "$_pg_old" ]; then
		eval "_pg_old=$_pg_old"
		# shellcheck disable=SC2064 # expanded now on purpose: the old command
		trap "pg_cleanup; $_pg_old" EXIT
	else
		trap pg_cleanup EXIT
	fi
}

# _pg_launch: pg_ctl start on PG_PORT; sets PG_PID. The log on stderr when it fails.
_pg_launch() {
	if ! _pg_as_server "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
	    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >"$PG_DIR/pg_ctl.log" 2>&1; then
		{
			echo "postgres did not start (port $PG_PORT):"
			tail -n 20 "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" 2>/dev/null
		} | _pg_diag
		return 1
	fi
	PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
}

start_postgres() {
	if [ -n "$PG_PID" ]; then
		echo "start_postgres: already running (pid $PG_PID)" | _pg_diag
		return 1
	fi
	if ! pg_available; then
		echo "start_postgres: no PostgreSQL server here (PG_BIN '$PG_BIN')" | _pg_diag
		return 1
	fi
	_pg_trap
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/herald-pg.XXXXXX") || return 1
	[ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR"
	PG_PORT=$("$PG_PY" "$TOP/tests/tools/port.py" free)
	# -N: the cluster is thrown away after the test; nothing to sync for.
	if ! _pg_as_server "$PG_BIN/initdb" -A trust -U herald -E UTF8 --locale=C -N \
	    -D "$PG_DIR/data" >"$PG_DIR/initdb.log" 2>&1; then
		_pg_diag <"$PG_DIR/initdb.log"
		return 1
	fi
	_pg_launch || return 1
	if ! "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U herald herald \
	    >"$PG_DIR/createdb.log" 2>&1; then
		_pg_diag <"$PG_DIR/createdb.log"
		return 1
	fi
	PG_URL="postgresql://herald@127.0.0.1:$PG_PORT/herald"
}

# _pg_gone: until PG_PID has exited and PG_PORT can be bound (10 s at most).
_pg_gone() {
	"$PG_PY" - "$PG_PID" "$PG_PORT" <<'PY'
import os, socket, sys, time
pid, port = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
        time.sleep(0.02)
        continue
    except ProcessLookupError:
        pass
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
    finally:
        s.close()
print("postgres (pid %d) still there after 10 s" % pid, file=sys.stderr)
sys.exit(1)
PY
}

stop_postgres() {
	[ -n "$PG_PID" ] || return 0
	_pg_as_server "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop \
	    >>"$PG_DIR/pg_ctl.log" 2>&1 || :
	_pg_gone || { kill -9 "$PG_PID" 2>/dev/null; _pg_gone; }
	_pg_rc=$?
	PG_PID=""
	return $_pg_rc
}

restart_postgres() {
	stop_postgres && _pg_launch
}

pg_sql() {
	"$PG_BIN/psql" -X -q -A -t -F '	' -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
	    -U herald -d herald -c "$1"
}

pg_cleanup() {
	stop_postgres
	[ -z "$PG_DIR" ] || rm -rf "$PG_DIR"
	PG_DIR=""
}
