#!/usr/bin/env bash
# The seed races end to end, with real processes: a slow config read in
# flight (the slow device sleeps 1 s inside its active section) while the
# host ejects the device (S1), announces relations without it (S2),
# removes the bus it sits on with events queued (S3), or while two shells
# write 1 to its `remove` (S11).
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
D=$MNT/bus/pci/devices
now() { python3 -c 'import time; print(time.time())'; }
field() { awk -v n="$2" '{ print $n }' "$1"; }

start_daemon -t "$DATA/races.topo" || { echo "Bail out! devlifed did not start"; exit 1; }

# --- S1: eject with a config read in flight ---------------------------
timed_read "$D/0000:00:05.0/config" "$WORK/s1.read" &
rpid=$!
check "S1: the read is in flight (1 active user)" wait_reads 0000:00:05.0 1
check "S1: host eject succeeds" CTL eject 0000:00:05.0
t_eject=$(now)
wait $rpid
expect_eq "S1: the read returned full data" "$(field "$WORK/s1.read" 1) $(field "$WORK/s1.read" 3)" "256 361b0500"
# The read sleeps 1 s inside the device: an eject that waited for it
# cannot return before the read's start + 1 s.
check "S1: eject returned only after the read was served" \
	python3 -c "import sys; sys.exit(not float(sys.argv[1]) + 1.0 <= float(sys.argv[2]))" "$(field "$WORK/s1.read" 4)" "$t_eject"
check "S1: later reads fail cleanly" bash -c "! cat '$D/0000:00:05.0/config' 2>/dev/null"
check "S1: gone from lspci" bash -c "! $LSPCI 2>/dev/null | grep -q '^00:05.0 '"

# --- S2: relations without the device, readers in flight --------------
CTL add 0000:00:05.0 vendor=0x1b36 device=0x0005 class=0x00ff00 delay_us=1000000 >/dev/null
for i in 1 2 3; do
	timed_read "$D/0000:00:05.0/config" "$WORK/s2.read$i" &
	eval "r$i=\$!"
done
check "S2: three reads in flight" wait_reads 0000:00:05.0 3
check "S2: relations without the device succeeds" CTL relations 0000:00 0000:00:00.0 0000:00:01.0 0000:00:06.0
t_rel=$(now)
wait "$r1" "$r2" "$r3"
for i in 1 2 3; do
	expect_eq "S2: reader $i got full data" "$(field "$WORK/s2.read$i" 1)" 256
	check "S2: relations returned only after reader $i was served" \
		python3 -c "import sys; sys.exit(not float(sys.argv[1]) + 1.0 <= float(sys.argv[2]))" "$(field "$WORK/s2.read$i" 4)" "$t_rel"
done
check "S2: the device is gone" test ! -e "$D/0000:00:05.0"
check "S2: the listed devices stay" test -e "$D/0000:00:06.0"

# --- S3: the bus goes while its events are queued ----------------------
timed_read "$D/0000:01:00.0/config" "$WORK/s3.read" &
rpid=$!
check "S3: a read is in flight on bus 01" wait_reads 0000:01:00.0 1
# Events for bus 01 queue behind an eject that waits for the reader
# (its removal has begun: the bus's one event thread is busy with it)...
{ CTL eject 0000:01:00.0; echo "rc=$?"; } >"$WORK/s3.e1" 2>&1 &
e1=$!
check "S3: the first event (an eject) is running" wait_until removal_begun 0000:01:00.0
{ CTL relations 0000:01 0000:01:00.0; echo "rc=$?"; } >"$WORK/s3.e2" 2>&1 &
e2=$!
{ CTL error 0000:01:01.0; echo "rc=$?"; } >"$WORK/s3.e3" 2>&1 &
e3=$!
# ... while the host ejects the bridge that owns bus 01.
{ CTL eject 0000:00:01.0; echo "rc=$?"; } >"$WORK/s3.bridge" 2>&1 &
eb=$!
check "S3: all return (no deadlock)" wait_pids 20 $rpid $e1 $e2 $e3 $eb
expect_eq "S3: the read in flight got full data" "$(field "$WORK/s3.read" 1)" 256
check "S3: the bridge eject succeeded" grep -q '^rc=0$' "$WORK/s3.bridge"
check "S3: the bridge is gone" test ! -e "$D/0000:00:01.0"
check "S3: nothing of bus 01 is left" bash -c "! ls '$D' | grep -q '^0000:01:'"
check "S3: the first event, running when the bridge went, succeeded" grep -q '^rc=0$' "$WORK/s3.e1"
# The bridge's removal began while the first event still ran (it waits
# for the read): the events behind it never ran, whether still queued
# when the bus closed or sent after (both: ENODEV, the bus is going).
check "S3: the trace: the eject of 01:00.0 began, then the bridge's removal, then 01:00.0 died" \
	in_order "$(trace_seq remove-start 0000:01:00.0)" "$(trace_seq remove-start 0000:00:01.0)" "$(trace_seq dead 0000:01:00.0)"
for e in 2 3; do
	check "S3: queued event $e never ran: ENODEV" bash -c "grep -q '^rc=1$' '$WORK/s3.e$e' && grep -q ENODEV '$WORK/s3.e$e'"
	diag <"$WORK/s3.e$e"
done
check "S3: the daemon still serves" CTL tree

# --- S11: two writers to remove, readers in flight --------------------
CTL add 0000:00:05.0 vendor=0x1b36 device=0x0005 class=0x00ff00 delay_us=1000000 >/dev/null
deaths_before=$(CTL trace --raw | grep -c ' dead 0000:00:05.0')
timed_read "$D/0000:00:05.0/config" "$WORK/s11.read" &
rpid=$!
check "S11: a read is in flight" wait_reads 0000:00:05.0 1
# Both writers hold remove open before either writes.
timed_write "$D/0000:00:05.0/remove" 1 "$WORK/s11.w1" "$WORK/ready1" "$WORK/go" &
w1=$!
timed_write "$D/0000:00:05.0/remove" 1 "$WORK/s11.w2" "$WORK/ready2" "$WORK/go" &
w2=$!
check "S11: both writers hold remove open" wait_until test -e "$WORK/ready1" -a -e "$WORK/ready2"
touch "$WORK/go"
wait $rpid $w1 $w2
expect_eq "S11: the read got full data" "$(field "$WORK/s11.read" 1)" 256
expect_eq "S11: writer 1 succeeded" "$(field "$WORK/s11.w1" 1)" ok
expect_eq "S11: writer 2 succeeded" "$(field "$WORK/s11.w2" 1)" ok
for w in 1 2; do
	check "S11: writer $w returned only after the read was served" \
		python3 -c "import sys; sys.exit(not float(sys.argv[1]) + 1.0 <= float(sys.argv[2]))" "$(field "$WORK/s11.read" 4)" "$(field "$WORK/s11.w$w" 2)"
done
check "S11: the device is gone" test ! -e "$D/0000:00:05.0"
expect_eq "S11: exactly one removal" "$(( $(CTL trace --raw | grep -c ' dead 0000:00:05.0') - deaths_before ))" 1

check "devlifed exits 0 on SIGTERM" stop_daemon
finish
