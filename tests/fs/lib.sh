# Helpers for the end-to-end tests: TAP output, a real devlifed on a real
# FUSE mount in a temporary directory, the real lspci/setpci.
# Sourced by each test-*.sh; expects DEVLIFED and DEVLIFECTL in the
# environment (meson passes the built binaries).
set -u

T=0
FAILED=0
WORK=$(mktemp -d /tmp/devlife-test.XXXXXX)
MNT=$WORK/sys
SOCK=$WORK/host.sock
PID=
mkdir -p "$MNT"

ok() { T=$((T + 1)); echo "ok $T - $*"; }
not_ok() { T=$((T + 1)); FAILED=$((FAILED + 1)); echo "not ok $T - $*"; }
diag() { sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: one test case from a command's status
check() {
	local desc=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag <"$WORK/check.out"
	fi
}
# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf 'got:  %s\nwant: %s\n' "$2" "$3" | diag
	fi
}
finish() {
	echo "1..$T"
	[ "$FAILED" -eq 0 ]
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# missing WHAT: a component the tests need is not there. A developer's run
# skips the program with the reason; where every component is required
# (DL_REQUIRE_ALL=1, as CI sets it) the program fails.
missing() {
	if [ "${DL_REQUIRE_ALL:-0}" = 1 ]; then
		echo "Bail out! $* (DL_REQUIRE_ALL=1: every component is required)"
		exit 1
	fi
	skip_all "$*"
}

require_env() {
	[ -c /dev/fuse ] || missing "/dev/fuse is absent"
	command -v fusermount3 >/dev/null || missing "fusermount3 (Debian: fuse3) is not installed"
	command -v lspci >/dev/null || { echo "Bail out! lspci (pciutils) is not installed"; exit 1; }
	[ -x "${DEVLIFED:-}" ] || { echo "Bail out! DEVLIFED not set"; exit 1; }
}

LSPCI="lspci -A linux-sysfs -O sysfs.path=$MNT/bus/pci"
SETPCI="setpci -A linux-sysfs -O sysfs.path=$MNT/bus/pci"
CTL() { "$DEVLIFECTL" -s "$SOCK" "$@"; }

# start_daemon [devlifed options]: mount and wait until it serves
start_daemon() {
	"$DEVLIFED" -f -s "$SOCK" "$@" "$MNT" >"$WORK/daemon.log" 2>&1 &
	PID=$!
	for _ in $(seq 1 200); do
		if [ -e "$MNT/bus/pci/devices" ] && [ -S "$SOCK" ]; then
			return 0
		fi
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "# devlifed exited early:"
			diag <"$WORK/daemon.log"
			return 1
		fi
		sleep 0.05
	done
	echo "# devlifed did not come up"
	return 1
}

# stop_daemon: SIGTERM, wait, report its exit status
stop_daemon() {
	local rc
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	rc=$?
	PID=
	return $rc
}

cleanup() {
	# A sanitizer report or a crash of the daemon: show it.
	if grep -qE 'Sanitizer|runtime error|fatal' "$WORK/daemon.log" 2>/dev/null; then
		echo "# devlifed's log:"
		tail -60 "$WORK/daemon.log" | diag
	fi
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# users_of DBDF: active users of a function, from devlifectl tree
users_of() {
	CTL tree | awk -v d="$1" '$0 ~ d { for (i = 1; i <= NF; i++) if ($i ~ /^users=/) { sub("users=", "", $i); print $i; exit } }'
}

# wait_reads DBDF N: until N config reads are inside the function (max
# 10 s). Each read holds two active references: the filesystem request's
# and the config access's own.
wait_reads() {
	for _ in $(seq 1 200); do
		[ "$(users_of "$1")" = "$(($2 * 2))" ] && return 0
		sleep 0.05
	done
	echo "users of $1: $(users_of "$1"), wanted $(($2 * 2))"
	return 1
}

# A reader that notes when it started and when its read returned.
# timed_read FILE OUT: writes "<bytes> <end time> <first 4 bytes> <start
# time>" to OUT. On a slow device (delay D) a read that started at S is
# served no earlier than S + D: whatever waited for it returns after that,
# however late the reader itself is scheduled.
timed_read() {
	python3 - "$1" >"$2" 2>&1 <<'PY'
import os, sys, time
start = time.time()
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    data = os.pread(fd, 4096, 0)
    print(len(data), time.time(), data[:4].hex(), start)
except OSError as e:
    print("error", time.time(), e.errno, start)
PY
}

# timed_write FILE TEXT OUT [READY GO]: writes "<status> <time>" to OUT.
# With READY and GO: opens FILE, creates READY, waits for GO to exist,
# then writes (so that several writers hold the file open at once).
timed_write() {
	python3 - "$@" >"$3" 2>&1 <<'PY'
import os, sys, time
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    if len(sys.argv) > 5:
        open(sys.argv[4], "w").close()
        while not os.path.exists(sys.argv[5]):
            time.sleep(0.01)
    os.write(fd, sys.argv[2].encode())
    print("ok", time.time())
except OSError as e:
    print("error", time.time(), e.errno)
PY
}

# --- helpers of the SR-IOV, mdev and seed scenario tests ---------------

# write_errno FILE TEXT [OUT [READY GO]]: one write; prints "OK <end>
# <start> <monotonic start> <monotonic end>" or "<ENAME> <end> <start>
# <monotonic start> <monotonic end>" (to OUT if given), the times taken
# right after and right before the write; the monotonic ones (ns)
# compare with the trace's timestamps. With READY and GO: opens FILE,
# creates READY, waits until GO exists, then writes (to write through a
# file opened before something else happened).
write_errno() {
	python3 - "$@" <<'PY'
import errno, os, sys, time
out = open(sys.argv[3], "w") if len(sys.argv) > 3 else sys.stdout
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    if len(sys.argv) > 5:
        open(sys.argv[4], "w").close()
        while not os.path.exists(sys.argv[5]):
            time.sleep(0.005)
    m0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    t0 = time.time()
    os.write(fd, sys.argv[2].encode())
    print("OK", time.time(), t0, m0, time.clock_gettime_ns(time.CLOCK_MONOTONIC), file=out)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)), time.time(), t0 if "t0" in dir() else 0,
          m0 if "m0" in dir() else 0, time.clock_gettime_ns(time.CLOCK_MONOTONIC), file=out)
PY
}
# shell_write FILE TEXT OUT: echo TEXT > FILE from the shell itself (no
# interpreter to start: it reaches the file at once); writes "OK <end>"
# or "FAIL <end>" to OUT
shell_write() {
	local r=FAIL
	{ echo "$2" >"$1"; } 2>/dev/null && r=OK
	echo "$r $(date +%s.%N)" >"$3"
}
# write_err FILE TEXT: the errno name of one write, or OK
write_err() { write_errno "$1" "$2" | awk '{ print $1 }'; }
# state_of NAME: the state devlifectl shows for a device, or "absent"
state_of() {
	CTL tree | awk -v d="$1" '$1 == d { for (i = 2; i <= NF; i++) if ($i ~ /^(NEW|LIVE|REMOVING|DEAD)$/) { print $i; f = 1; exit } } END { if (!f) print "absent" }'
}
# is_state NAME STATE: whether devlifectl shows NAME in STATE (the tree
# waits for the device lock: a driver callback in progress holds it)
is_state() { [ "$(state_of "$1")" = "$2" ]; }
# removal_begun NAME [N]: whether NAME's Nth removal (default the first)
# has started, from the trace (which never waits for a device)
removal_begun() { [ "$(trace_count remove-start "$1")" -ge "${2:-1}" ]; }
# wait_until CMD...: poll for up to 10 s until CMD succeeds
wait_until() {
	for _ in $(seq 1 400); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.025
	done
	echo "timed out waiting for: $*"
	return 1
}
# violations: what the sample drivers saw go wrong (devlifectl stats)
violations() { CTL stats | awk '$1 == "violations" { print $2 }'; }
# trace_count EVENT NAME: how many EVENT records NAME has in the trace
trace_count() { CTL trace --raw | awk -v e="$1" -v d="$2" '$3 == e && $4 == d { n++ } END { print n + 0 }'; }
# trace_seq EVENT NAME: the sequence number of NAME's last EVENT, or 0
trace_seq() { CTL trace --raw | awk -v e="$1" -v d="$2" '$3 == e && $4 == d { s = $1 } END { print s + 0 }'; }
# trace_ts EVENT NAME: the timestamp (CLOCK_MONOTONIC, ns) of NAME's last
# EVENT, or 0
trace_ts() { CTL trace --raw | awk -v e="$1" -v d="$2" '$3 == e && $4 == d { s = $2 } END { print (s == "" ? 0 : s) }'; }
# in_order SEQ...: each sequence number is non-zero and below the next
in_order() {
	local prev=0 s
	for s in "$@"; do
		[ "$s" -gt "$prev" ] || { echo "trace order: $*"; return 1; }
		prev=$s
	done
}
# before T1 T2 [D]: whether time T1 + D <= T2 (D seconds, default 0)
before() { python3 -c "import sys; sys.exit(not float(sys.argv[1]) + float(sys.argv[3]) <= float(sys.argv[2]))" "$1" "$2" "${3:-0}"; }
# uuid N: a fixed UUID per small number
uuid() { printf '%08x-0000-4000-8000-%012x\n' "$1" "$1"; }
# wait_pids SECONDS PID...: wait for the test's background jobs; fails,
# and ends them (by pid), if one still runs after SECONDS: a deadlock
wait_pids() {
	local secs=$1 p alive
	shift
	for _ in $(seq 1 $((secs * 20))); do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		if [ $alive = 0 ]; then
			wait "$@" 2>/dev/null
			return 0
		fi
		sleep 0.05
	done
	echo "still running after ${secs} s (a deadlock?): $*"
	CTL tree
	kill "$@" 2>/dev/null
	return 1
}
# gone PATH...: each PATH disappears (soon: the kernel's cached entries
# are invalidated by the daemon's own thread, just after a removal)
gone() {
	local p
	for p in "$@"; do
		wait_until test ! -e "$p" || return 1
	done
}
# users_is DBDF N: whether the function has exactly N active users now
users_is() { [ "$(users_of "$1")" = "$2" ]; }
users_ge() { [ "$(users_of "$1")" -ge "$2" ] 2>/dev/null; }
