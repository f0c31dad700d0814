#!/usr/bin/env bash
# devlifed under torture (docs/reliability.md): random concurrent
# operations through the filesystem (reads, lspci, remove, rescan,
# sriov_numvfs, driver_override, bind/unbind, mdev create/remove, online)
# and the host channel (add, eject, surprise, relations, error) for
# DL_STRESS_SECONDS, with a trace follower recording every event. Checks:
# no operation hangs (each has a deadline) and none fails in a way a
# device going away cannot explain; the daemon stays up; the sample
# drivers saw no violation; afterwards no active user is left anywhere,
# the trace follows the lifecycle grammar (trace-check.py), and the
# daemon stops cleanly on SIGTERM with no sanitizer report (leaks
# included: LeakSanitizer runs at its exit).
. "$(dirname "$0")/lib.sh"
require_env
HERE=$(dirname "$0")
TOPO=$HERE/data/torture.topo
SECONDS_RUN=${DL_STRESS_SECONDS:-${DL_STRESS_SECONDS_DEFAULT:-3}}
SEED=${DL_STRESS_SEED:-$$}
RANDOM=$SEED
D=$MNT/bus/pci/devices
STOP=$WORK/stop
VIOL=$WORK/violations
OPS=$WORK/ops
: >"$VIOL"

echo "# torture: ${SECONDS_RUN} s, seed $SEED (DL_STRESS_SEED to replay the choices)"
start_daemon -t "$TOPO" || { echo "Bail out! devlifed did not start"; exit 1; }

# The functions of the hardware, and each one's topology line (for add).
mapfile -t FUNCS < <(awk '!/^#/ && NF { print $1 }' "$TOPO")
kv_of() { awk -v n="$1" '$1 == n { $1 = ""; print }' "$TOPO"; }

violation() { echo "$*" >>"$VIOL"; }

# op NAME CMD...: run with a deadline; a hang or an error that a device
# going away cannot explain is a violation. Output in $WORK/op.$BASHPID.
op() {
	local name=$1 out=$WORK/op.$BASHPID rc t0=$EPOCHREALTIME
	shift
	timeout -k 5 60 "$@" >"$out" 2>&1
	rc=$?
	echo "$name $rc $t0 $EPOCHREALTIME" >>"$OPS.$BASHPID"
	# what failed operations said, device names folded, for the summary
	[ $rc -ne 0 ] && echo "$name: $(head -c 200 "$out" | head -1 |
		sed -E 's/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/DBDF/g; s/[0-9a-f-]{36}/UUID/g; s|/tmp/devlife-test\.[A-Za-z0-9]+|WORK|g')" >>"$WORK/fails.$BASHPID"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		violation "$name: no answer within 60 s (deadlock?): $*"
		dump_stacks "$name"
	elif [ $rc -ge 128 ]; then
		violation "$name: killed by signal $((rc - 128)): $*"
	elif grep -qE 'Transport endpoint|Software caused|cannot connect' "$out"; then
		violation "$name: $(head -c 300 "$out" | tr '\n' ' ') ($*)"
	elif [ "$name" = read ] && grep -q 'Input/output error' "$out"; then
		# a failed probe may say EIO; a read never may
		violation "$name: $(head -c 300 "$out" | tr '\n' ' ') ($*)"
	fi
	return 0
}

# A hung operation: what every thread of the daemon is doing, once (a
# stuck request stays stuck after its client is killed).
dump_stacks() {
	[ -e "$WORK/stacks" ] && return
	command -v gdb >/dev/null || { echo "(no gdb)" >"$WORK/stacks"; return; }
	timeout 60 gdb -p "$PID" -batch -ex 'thread apply all bt 12' >"$WORK/stacks" 2>&1
}

pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
present_funcs() { ls "$D" 2>/dev/null; }

reader() {
	RANDOM=$1
	while [ ! -e "$STOP" ]; do
		local f dev
		dev=$(pick $(present_funcs) none)
		[ "$dev" = none ] && { sleep 0.01; continue; }
		f=$(pick config vendor device class resource irq driver_override \
			sriov_numvfs sriov_totalvfs modalias numa_node)
		op read head -c 4096 "$D/$dev/$f"
		if [ $((RANDOM % 8)) -eq 0 ]; then
			op lspci $LSPCI -vvv
		fi
	done
}

sysfs_writer() {
	RANDOM=$1
	while [ ! -e "$STOP" ]; do
		local dev
		dev=$(pick $(present_funcs) none)
		case $((RANDOM % 10)) in
		0) [ "$dev" != none ] && op remove sh -c "echo 1 > '$D/$dev/remove'" ;;
		1) op rescan sh -c "echo 1 > '$MNT/bus/pci/rescan'" ;;
		2|3) op numvfs sh -c "echo 0 > '$D/0000:01:00.0/sriov_numvfs' && echo $(pick 1 2 4 8) > '$D/0000:01:00.0/sriov_numvfs'" ;;
		4) [ "$dev" != none ] && op override sh -c "echo $(pick pci-stub virtio-pci '') > '$D/$dev/driver_override'" ;;
		5) [ "$dev" != none ] && op unbind sh -c "echo $dev > '$MNT/bus/pci/drivers/virtio-pci/unbind'" ;;
		6) [ "$dev" != none ] && op bind sh -c "echo $dev > '$MNT/bus/pci/drivers/virtio-pci/bind'" ;;
		7) op mdev-create bash -c "echo $(cat /proc/sys/kernel/random/uuid) > '$D/0000:00:02.0/mdev_supported_types/'*'/create'" ;;
		8) op mdev-remove bash -c "for m in '$D/0000:00:02.0/'*-*-*-*-*/remove; do [ -e \"\$m\" ] && echo 1 > \"\$m\"; break; done" ;;
		9) op online sh -c "echo $(pick 0 1) > '$D/0000:00:06.0/online'" ;;
		esac
	done
}

host_worker() {
	RANDOM=$1
	while [ ! -e "$STOP" ]; do
		local f
		f=$(pick "${FUNCS[@]:1}")
		case $((RANDOM % 8)) in
		0|1) op eject "$DEVLIFECTL" -s "$SOCK" eject "$f" ;;
		2) op surprise "$DEVLIFECTL" -s "$SOCK" surprise "$f" ;;
		3) op error "$DEVLIFECTL" -s "$SOCK" error "$f" ;;
		4) op relations "$DEVLIFECTL" -s "$SOCK" relations 0000:01 0000:01:01.0 ;;
		*) op add "$DEVLIFECTL" -s "$SOCK" add "$f" $(kv_of "$f") ;;
		esac
		[ $((RANDOM % 4)) -eq 0 ] && op rescan sh -c "echo 1 > '$MNT/bus/pci/rescan'"
	done
}

CTL trace --raw --follow >"$WORK/trace.log" 2>&1 &
follower=$!
pids=()
reader $((SEED + 1)) & pids+=($!)
reader $((SEED + 2)) & pids+=($!)
sysfs_writer $((SEED + 3)) & pids+=($!)
sysfs_writer $((SEED + 4)) & pids+=($!)
host_worker $((SEED + 5)) & pids+=($!)
host_worker $((SEED + 6)) & pids+=($!)

alive=0
for _ in $(seq 1 $((SECONDS_RUN * 10))); do
	sleep 0.1
	kill -0 "$PID" 2>/dev/null || { alive=1; break; }
	[ -s "$VIOL" ] && break
done
touch "$STOP"
wait "${pids[@]}"
expect_eq "the daemon stayed up" "$alive" 0
check "no operation hung or failed inexplicably" test ! -s "$VIOL"
[ -s "$VIOL" ] && head -20 "$VIOL" | diag
if [ -s "$WORK/stacks" ]; then
	echo "# devlifed's threads when the first operation hung:"
	# idle threads left out: FUSE readers, idle workers and the
	# invalidator, the socket's acceptor and trace followers, liburcu's
	idle='nbytes=1052672|work\.c:91\n|notify_main|accept_main|cmd_follow|#1 [^\n]*liburcu'
	awk -v idle="$idle" '/^Thread /{ if (t != "" && t !~ idle) printf "%s", t; t = "" }
		/^(Thread|#[0-9])/{ t = t $0 "\n" }
		END { if (t !~ idle) printf "%s", t }' "$WORK/stacks" |
		sed -E 's/ \(.*\) (at|from) / \1 /; s/0x[0-9a-f]{16} in //' | cut -c1-150 | head -200 | diag
fi
cat "$OPS".* 2>/dev/null | awk '{ n[$1]++; if ($2 == 0) ok[$1]++ } END { for (k in n) printf "%s %d/%d ", k, ok[k], n[k]; print "" }' | sed 's/^/# ops (succeeded\/run): /'
cat "$OPS".* 2>/dev/null | awk '{ d = $4 - $3; if (d > m[$1]) m[$1] = d } END { for (k in m) printf "%s %.1f ", k, m[k]; print "" }' | sed 's/^/# slowest (s): /'

cat "$WORK"/fails.* 2>/dev/null | sort | uniq -c | sort -rn | head -40 |
	sed 's/^/# failed as expected? /'

# Quiet now: nobody inside any device; the sample drivers saw nothing wrong.
check "the host channel answers" CTL tree
users=$(CTL tree | grep -o 'users=[0-9]*' | grep -vc 'users=0$')
expect_eq "no active user left on any device" "$users" 0
expect_eq "the sample drivers saw no violation" \
	"$(CTL stats | awk '$1 == "violations" { print $2 }')" 0
# Everything comes back: the hardware model and the tree are coherent.
# A rescan first: a bridge whose hardware is present but which was
# removed through sysfs must be back before functions can be added on
# its bus ("no bus 0000:01 in the tree"); then the adds, bridges before
# what is behind them (the file's order); then a rescan for the rest.
echo 1 >"$MNT/bus/pci/rescan"
for f in "${FUNCS[@]:1}"; do echo "add $f: $(CTL add "$f" $(kv_of "$f") 2>&1)"; done >"$WORK/adds"
echo 1 >"$MNT/bus/pci/rescan"
"$DEVLIFECTL" -s "$SOCK" tree >"$WORK/tree.after" 2>&1
check "every function is back after adds and a rescan (devlifectl tree)" \
	bash -c "for f in ${FUNCS[*]}; do awk '{ print \$1 }' '$WORK/tree.after' | grep -qx \$f || { echo missing \$f; cat '$WORK/adds' '$WORK/tree.after'; exit 1; }; done"
# The kernel may keep a dentry of a function's earlier incarnation for
# up to the entry timeout (1 s) before the daemon's invalidation lands.
check "and in the filesystem (within the kernel's entry timeout)" \
	bash -c "for i in \$(seq 30); do ok=1; for f in ${FUNCS[*]}; do test -e '$D/'\$f || { ok=0; m=\$f; }; done; [ \$ok = 1 ] && exit 0; sleep 0.1; done; echo missing \$m; ls '$D'; exit 1"
check "lspci reads the whole tree" $LSPCI -vvv

kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
check "the trace follows the lifecycle grammar" python3 "$HERE/trace-check.py" "$WORK/trace.log"
diag <"$WORK/check.out"

stop_daemon
rc=$?
expect_eq "devlifed stops cleanly (exit 0, every device removed)" "$rc" 0
check "no sanitizer report, leak or invariant message from devlifed" \
	bash -c "! grep -iE 'sanitizer|runtime error|invariant|violation|leak' '$WORK/daemon.log'"
if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$WORK/daemon.log"; then
	tail -40 "$WORK/daemon.log" | diag
fi
finish
