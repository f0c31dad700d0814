#!/usr/bin/env bash
# The seed races end to end, with real processes: a slow config read in
# flight (the slow device sleeps 1 s inside its active section) while the
# host ejects the device (S1), announces relations without it (S2),
# removes the bus it sits on with events queued (S3), or while two shells
# write 1 to its `remove` (S11); and config reads while that removal
# drains, each ENODEV or complete, never short.
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

# --- config reads while a removal drains: ENODEV or all, never short ---
# A read in flight holds the slow device for 1 s; the eject's removal
# waits for it (its drain). Reads started meanwhile (the trace shows
# them after the removal's start and before the device's death) must
# each fail with ENODEV or return every byte asked for: a short read of
# config is what makes lspci print "<access denied>" as for a non-root
# reader. The read in flight itself returns all its bytes.
config_reads() { # FD OUT: one line a read: "OFF LEN got|ERRNO MONO_START MONO_END"
	python3 - "$1" >"$2" 2>&1 <<'PY'
import errno, os, sys, time
fd = int(sys.argv[1])  # opened before the removal began
for off, n in ((0, 64), (0, 256), (64, 192), (0, 4096), (0x40, 4), (0xff, 1)):
    m0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    try:
        r = str(len(os.pread(fd, n, off)))
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    print(off, n, r, m0, time.clock_gettime_ns(time.CLOCK_MONOTONIC))
PY
}
CTL add 0000:00:07.0 vendor=0x1b36 device=0x0005 class=0x00ff00 delay_us=1000000 >/dev/null
starts=$(trace_count remove-start 0000:00:07.0)
timed_read "$D/0000:00:07.0/config" "$WORK/dr.a" &
rpid=$!
check "drain-read: a read is in flight" wait_reads 0000:00:07.0 1
exec 5<"$D/0000:00:07.0/config"
CTL eject 0000:00:07.0 >/dev/null &
epid=$!
check "drain-read: the removal began" wait_until removal_begun 0000:00:07.0 $((starts + 1))
config_reads 5 "$WORK/dr.b"
wait $rpid $epid
exec 5<&-
expect_eq "drain-read: the read in flight returned all 256 bytes" "$(field "$WORK/dr.a" 1)" 256
t_start=$(trace_ts remove-start 0000:00:07.0)
t_dead=$(trace_ts dead 0000:00:07.0)
while read -r off n got m0 m1; do
	check "drain-read: read of $n at $off ran inside the drain" \
		in_order "$t_start" "$m0" "$m1" "$t_dead"
	case "$got" in
	ENODEV) ok "drain-read: read of $n at $off: ENODEV" ;;
	"$n") ok "drain-read: read of $n at $off: all of it" ;;
	*) not_ok "drain-read: read of $n at $off: $got (short or wrong error)" ;;
	esac
done <"$WORK/dr.b"
expect_eq "drain-read: six reads were made" "$(wc -l <"$WORK/dr.b")" 6

check "devlifed exits 0 on SIGTERM" stop_daemon
finish
