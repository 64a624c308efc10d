#!/bin/sh
# pg-lib.sh itself, against a real PostgreSQL: a server started in a
# temporary folder answers on 127.0.0.1 and on its socket in that folder,
# is version 15, keeps what it was given across a restart on the same port,
# and once stopped leaves nothing running, its port free and, cleaned up,
# no folder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg-lib.sh"
scratch

if ! pg_available; then
	echo "1..0 # SKIP no PostgreSQL server here (scripts/deps installs it)"
	exit 0
fi

start_postgres
ok $? "start_postgres"
[ -n "$PG_PORT" ] && [ -d "$PG_DIR" ] && [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null
ok $? "port $PG_PORT, folder and a running postmaster ($PG_PID) set"
[ "$PG_URL" = "postgresql://herald@127.0.0.1:$PG_PORT/herald" ]
ok $? "PG_URL names it: $PG_URL"
[ -S "$PG_DIR/.s.PGSQL.$PG_PORT" ]
ok $? "its socket is in the folder"

v=$(pg_sql "SELECT current_setting('server_version_num')::int / 10000" 2>&1)
[ "$v" = 15 ]
ok $? "PostgreSQL 15 answers on 127.0.0.1 (got: $v)"
[ "$(pg_sql "SHOW listen_addresses")" = 127.0.0.1 ]
ok $? "and listens on 127.0.0.1 only"
who=$("$PG_BIN/psql" -X -A -t -h "$PG_DIR" -p "$PG_PORT" -U herald -d herald \
    -c "SELECT current_user || ' ' || current_database()" 2>&1)
[ "$who" = "herald herald" ]
ok $? "over the socket in the folder, as herald on database herald, no password (got: $who)"
if [ "$(id -u)" -eq 0 ]; then
	[ "$(ps -o user= -p "$PG_PID" | tr -d ' ')" = postgres ]
	ok $? "as root, the server runs as postgres"
fi

pg_sql "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2), (3)"
ok $? "a table is made and filled"
old_port=$PG_PORT old_pid=$PG_PID
restart_postgres
ok $? "restart_postgres"
[ "$PG_PORT" = "$old_port" ] && [ "$PG_PID" != "$old_pid" ] && ! kill -0 "$old_pid" 2>/dev/null
ok $? "a new postmaster on the same port, the old one gone"
[ "$(pg_sql "SELECT sum(n) FROM t")" = 6 ]
ok $? "the table is still there"

dir=$PG_DIR pid=$PG_PID port=$PG_PORT
stop_postgres
ok $? "stop_postgres"
! kill -0 "$pid" 2>/dev/null
ok $? "the postmaster has exited"
left=$(ps -eo pid=,args= | grep -F "$dir" | grep -v grep)
[ -z "$left" ]
ok $? "no process of that server is left"
[ -z "$left" ] || echo "$left" | diag
/usr/bin/python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$port"
ok $? "its port can be bound again"
pg_cleanup
[ ! -e "$dir" ]
ok $? "pg_cleanup removes the folder"
pg_cleanup
ok $? "and a second one is harmless"

done_testing
