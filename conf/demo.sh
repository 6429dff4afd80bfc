#!/bin/bash
# make demo: gsmsim (4 simulated modems) + simrouted on conf/demo.ini; sends a few messages, shows where
# they went, then leaves both running until Ctrl-C and stops them (by PID) cleanly.
set -u
BUILD=${1:-build}
RUN=/tmp/simroute-demo
SOCK=$RUN/api.sock
PORT=8080
cd "$(dirname "$0")/.."

if [ -e "$RUN/gsmsim.pid" ] && kill -0 "$(cat "$RUN/gsmsim.pid")" 2>/dev/null; then
	echo "demo: another demo seems to be running (gsmsim pid $(cat "$RUN/gsmsim.pid")); stop it first." >&2
	exit 1
fi
rm -rf "$RUN"
mkdir -p "$RUN/sim"
# Port 8080 busy? Take the next free one.
while (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do PORT=$((PORT + 1)); done
sed "s|^listen = .*|listen = 127.0.0.1:$PORT|" conf/demo.ini > "$RUN/simroute.ini"

SIM_PID= DAEMON_PID=
stop() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping simrouted and gsmsim"
	[ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	echo "demo: stopped. The store is kept in $RUN/state for a look: sqlite3 $RUN/state/simroute.db"
	exit 0
}
trap stop INT TERM EXIT

"$BUILD/gsmsim" --modems 4 --dir "$RUN/sim" --latency 1 > "$RUN/gsmsim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do [ -e "$RUN/sim/modem3" ] && break; sleep 0.1; done
[ -e "$RUN/sim/modem3" ] || { echo "demo: gsmsim did not start; see $RUN/gsmsim.log" >&2; cat "$RUN/gsmsim.log"; exit 1; }

"$BUILD/simrouted" -c "$RUN/simroute.ini" > "$RUN/simrouted.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "demo: simrouted did not start; see $RUN/simrouted.log" >&2; cat "$RUN/simrouted.log"; exit 1; }

CLI="$BUILD/simroute -s $SOCK"
echo "== simrouted is up with 4 simulated modems (gsmsim, 1 s per SMS). Sending 8 messages:"
for i in 1 2 3 4 5 6 7 8; do
	$CLI send "+44770090012$i" "Hello from simroute, message $i of 8" || exit 1
done
$CLI send --otp "+447700900999" "Your code is 493817" || exit 1
echo
echo "== waiting for the modems to send them..."
for _ in $(seq 60); do
	[ "$(wc -l < "$RUN/sim/sent.jsonl" 2>/dev/null || echo 0)" -ge 9 ] && break
	sleep 0.5
done
sleep 0.5
echo
echo "== what the simulated network received ($RUN/sim/sent.jsonl):"
sed -E 's/.*"modem": ?"([^"]*)".*"to": ?"([^"]*)".*"text": ?"([^"]*)".*/  \1 -> \2: \3/' "$RUN/sim/sent.jsonl"
echo
echo "== simroute status:"
$CLI status
cat <<MSG

== Send more while the demo runs:
  $CLI send +447700900123 "Hello"
  $CLI send --otp +447700900123 "Your code is 123456"
  curl --unix-socket $SOCK http://localhost/v1/messages -d '{"to":"+447700900123","text":"Hello"}'
  curl -H 'Authorization: Bearer demo-key-change-me' http://127.0.0.1:$PORT/v1/messages \\
       -d '{"to":"+447700900123","text":"Hello over TCP"}'
  curl --unix-socket $SOCK http://localhost/v1/messages/1
  tail -f $RUN/sim/sent.jsonl        # what the modems sent
  tail -f $RUN/simrouted.log         # the daemon's log

== Watch it:
  $CLI watch                          # live view in this terminal
  $CLI ui                             # prints a URL for the web dashboard (no key needed)
  or open http://127.0.0.1:$PORT/ui/ and sign in with the key demo-key-change-me

Press Ctrl-C to stop the demo.
MSG
wait "$DAEMON_PID"
echo "demo: simrouted exited; see $RUN/simrouted.log"
DAEMON_PID=
