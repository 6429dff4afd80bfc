#!/bin/sh
# pg_server.sh: a throw-away PostgreSQL server for the tests (the postgresql backend, tracker issue 12).
#   pg_server.sh start DIR   initdb into DIR/data, start on a free 127.0.0.1 port, create database
#                            simroute; prints the libpq DSN on stdout (also kept in DIR/dsn)
#   pg_server.sh stop DIR    stop the server (fast shutdown) and remove DIR
# initdb refuses to run as root: as root the server runs as the `postgres` system user that the
# Debian postgresql package creates, and DIR is chowned to it. Exit 77: PostgreSQL is not installed.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "PostgreSQL server not installed (Debian: apt-get install postgresql)" >&2
	exit 77
fi

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	as_owner "$bindir/initdb" -D "$dir/data" -U simroute --auth=trust --no-sync -E UTF8 --locale=C \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	# a free port: bind 0, read it back (a race with another process is unlikely and fails loudly)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# loopback TCP only, the socket in DIR (not /var/run/postgresql, which needs root to create);
	# fsync stays on: the backend's durability is part of what is tested
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=50" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U simroute simroute
	echo "host=127.0.0.1 port=$port dbname=simroute user=simroute" | tee "$dir/dsn"
	;;
stop)
	[ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
