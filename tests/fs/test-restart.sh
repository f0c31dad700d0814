#!/usr/bin/env bash
# devlifed killed with SIGKILL in the middle of operations (a config read
# held by the slow device, a `remove` write and a host eject waiting for
# it), then restarted on the same mountpoint (docs/reliability.md):
#  - the callers in flight get an error, none hangs;
#  - a restart on the stale mount refuses with a clear message and the
#    command that fixes it;
#  - after `fusermount3 -u` the restart works: the stale socket is
#    replaced, the tree is whole again, lspci reads it;
#  - killed again while idle and restarted: the same.
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
D=$MNT/bus/pci/devices

start_daemon -t "$DATA/races.topo" || { echo "Bail out! devlifed did not start"; exit 1; }

# --- operations in flight ---------------------------------------------
timed_read "$D/0000:00:05.0/config" "$WORK/read" &
rpid=$!
check "a config read is in flight (slow device)" wait_reads 0000:00:05.0 1
{ timeout -k 5 30 sh -c "echo 1 > '$D/0000:00:05.0/remove'"; echo "rc=$?"; } >"$WORK/remove" 2>&1 &
wpid=$!
{ timeout -k 5 30 "$DEVLIFECTL" -s "$SOCK" eject 0000:00:06.0; echo "rc=$?"; } >"$WORK/eject" 2>&1 &
epid=$!
# both have reached the daemon: their removals have begun (the remove
# waits for the read)
check "the remove write is in flight" wait_until removal_begun 0000:00:05.0
check "the host eject has reached the daemon" wait_until removal_begun 0000:00:06.0
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=
wait $rpid $wpid $epid
check "the read in flight got an error, not data" grep -q '^error ' "$WORK/read"
check "the remove write in flight returned (no hang)" bash -c "grep -q '^rc=' '$WORK/remove' && ! grep -q '^rc=124' '$WORK/remove'"
check "the host eject in flight returned (no hang)" bash -c "grep -q '^rc=' '$WORK/eject' && ! grep -q '^rc=124' '$WORK/eject'"
check "the mount is stale (ENOTCONN)" bash -c "ls '$MNT' 2>&1 | grep -q 'not connected'"

# --- restart on the stale mount: a clear refusal ----------------------
timeout 30 "$DEVLIFED" -f -s "$SOCK" -t "$DATA/races.topo" "$MNT" >"$WORK/stale.log" 2>&1
rc=$?
expect_eq "a restart on the stale mount fails (exit 1)" "$rc" 1
check "it says the mount is stale and how to fix it" \
	grep -q "is a stale FUSE mount (its daemon died); run: fusermount3 -u $MNT" "$WORK/stale.log"
diag <"$WORK/stale.log"

# --- after fusermount3 -u: it works -----------------------------------
check "fusermount3 -u clears the stale mount" fusermount3 -u "$MNT"
check "the old socket file is still there (stale)" test -S "$SOCK"
start_daemon -t "$DATA/races.topo" || { echo "Bail out! devlifed did not restart"; exit 1; }
check "the restarted daemon serves the host channel (stale socket replaced)" CTL tree
check "every function is back" bash -c "ls '$D' | grep -q 0000:00:05.0 && ls '$D' | grep -q 0000:00:06.0 && ls '$D' | grep -q 0000:01:01.0"
check "lspci reads the tree" $LSPCI -vvv
check "config reads work again" bash -c "[ \$(head -c 4096 '$D/0000:01:01.0/config' | wc -c) -ge 256 ]"

# --- killed while idle, restarted again -------------------------------
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=
fusermount3 -u "$MNT"
start_daemon -t "$DATA/races.topo" || { echo "Bail out! devlifed did not restart"; exit 1; }
check "second restart: the host channel answers" CTL stats
check "second restart: lspci reads the tree" $LSPCI

stop_daemon
expect_eq "the last daemon stops cleanly" "$?" 0
finish
