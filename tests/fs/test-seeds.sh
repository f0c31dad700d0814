#!/usr/bin/env bash
# The seed races S4, S5, S8, S9 and S10 end to end, with real processes:
# shell writes to sysfs attributes, devlifectl, lspci in a loop. The race
# windows are held open by the sample drivers' delays (op_delay_us,
# remove_delay_us, the config delay_us); a job that does not come back
# within 20 s fails its case (a deadlock). The interleavings forced with
# pause points are in tests/pci/test-drivers.c and test-mdev.c.
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
start_daemon -t "$DATA/seeds.topo" || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
field() { awk -v n="$2" '{ print $n }' "$1"; }
# dead_before A B: A died (in the trace), and before B's last death
dead_before() {
	local a b
	a=$(trace_seq dead "$1")
	b=$(trace_seq dead "$2")
	[ "$a" -gt 0 ] && [ "$a" -lt "$b" ]
}

# lspci reads every function, over and over, through all of it (paused
# while a scenario uses a function whose config reads take a second)
touch "$WORK/lspci.run"
(
	while [ -e "$WORK/lspci.run" ]; do
		if [ -e "$WORK/lspci.pause" ]; then
			touch "$WORK/lspci.idle"
			sleep 0.02
			continue
		fi
		rm -f "$WORK/lspci.idle"
		$LSPCI -vvv >/dev/null 2>&1
	done
) &
LOOP=$!
lspci_pause() { touch "$WORK/lspci.pause"; wait_until test -e "$WORK/lspci.idle"; }
lspci_resume() { rm -f "$WORK/lspci.pause"; }

# ------------------------------------------------------------------------
# S4 (seed 001): sriov-pf enables 4 VFs in probe and disables them in
# remove; the PF goes by sysfs remove, host eject, error recovery, driver
# unbind and its parent's removal. No deadlock, no VF left behind; every
# path removes each VF before the PF's driver lets go.
PF4=0000:01:00.0
PF4_KV="vendor=0x8086 device=0x1572 class=0x020000 bar0=1M,64 sriov=8,offset=0x80,stride=1,vfdev=0x154c vfbar0=16K,64,pref driver=sriov-pf probe_vfs=4"
s4_vfs() { ls "$D" | grep -c '^0000:01:10\.'; }
s4_ordered() {
	local v
	v=$(trace_seq dead 0000:01:10.3)
	[ "$v" -gt 0 ] && [ "$v" -lt "$(trace_seq unbind $PF4)" ]
}
s4_gone() {
	expect_eq "S4 $1: no VF left (sysfs, lspci)" "$(s4_vfs) $($LSPCI -n 2>/dev/null | grep -c 8086:154c)" "0 0"
	check "S4 $1: each VF dead before the PF's driver let go" s4_ordered
}
expect_eq "S4: 4 VFs from probe" "$(s4_vfs)" 4

echo 1 >"$D/$PF4/remove" &
check "S4 sysfs remove: returns" wait_pids 20 $!
check "S4 sysfs remove: the PF is gone" gone "$D/$PF4"
s4_gone "sysfs remove"
check "S4: rescan brings it back" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
expect_eq "S4: 4 VFs again" "$(s4_vfs)" 4

CTL eject $PF4 >"$WORK/s4.out" 2>&1 &
check "S4 eject: returns" wait_pids 20 $!
s4_gone "eject"
check "S4: the host adds it again" CTL add $PF4 $PF4_KV
expect_eq "S4: 4 VFs again" "$(s4_vfs)" 4

dead=$(trace_count dead 0000:01:10.0)
CTL error $PF4 >"$WORK/s4.out" 2>&1 &
check "S4 error recovery: returns" wait_pids 20 $!
check "S4 error recovery: removed and rescanned" grep -q "removed and rescanned" "$WORK/s4.out"
expect_eq "S4 error recovery: the old VFs died, new ones came with the new PF" "$(( $(trace_count dead 0000:01:10.0) - dead )) $(s4_vfs)" "1 4"
check "S4 error recovery: old VFs dead before the old PF's driver let go" s4_ordered

echo $PF4 >"$MNT/bus/pci/drivers/sriov-pf/unbind" &
check "S4 unbind: returns" wait_pids 20 $!
check "S4 unbind: the PF stays" test -e "$D/$PF4/config"
s4_gone "unbind"
expect_eq "S4 unbind: sriov_numvfs reads 0" "$(cat "$D/$PF4/sriov_numvfs")" 0
check "S4: bind again" bash -c "echo $PF4 > '$MNT/bus/pci/drivers/sriov-pf/bind'"
expect_eq "S4: 4 VFs again" "$(s4_vfs)" 4

echo 1 >"$D/0000:00:01.0/remove" &
check "S4 parent removal: returns" wait_pids 20 $!
check "S4 parent removal: port and PF are gone" gone "$D/0000:00:01.0" "$D/$PF4"
s4_gone "parent removal"
check "S4: rescan brings both back" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
expect_eq "S4: 4 VFs again" "$(s4_vfs)" 4

# Each path again, while a sriov_numvfs write is adding VFs: the write
# holds the PF (active, and its device lock for 1.5 s in sriov_configure)
# when the path begins. A removal waits for it and its VF adds are
# refused (ENODEV); error recovery and unbind take the PF's device lock
# first (as the kernel's report_error_detected() and device_release_
# driver() do): they wait for the write, which adds its VFs, then the
# driver's remove takes them away. No deadlock, no VF left.
lspci_pause # its reads would count as users of the PF
CTL eject $PF4 >/dev/null 2>&1
check "S4 adding: a PF whose sriov_configure takes 1.5 s" CTL add $PF4 $PF4_KV op_delay_us=1500000
# s4_adding HOW CMD...: CMD (the path) while the write of 4 is inside
s4_adding() {
	local how=$1 w r
	shift
	check "S4 adding $how: VFs off first" bash -c "echo 0 > '$D/$PF4/sriov_numvfs'"
	rm -f "$WORK/s4a.ready" "$WORK/s4a.go"
	write_errno "$D/$PF4/sriov_numvfs" 4 "$WORK/s4a.w" "$WORK/s4a.ready" "$WORK/s4a.go" &
	w=$!
	wait_until test -e "$WORK/s4a.ready"
	touch "$WORK/s4a.go"
	check "S4 adding $how: the write is inside the PF" wait_until users_is $PF4 1
	t_path=$(date +%s.%N)
	{ "$@"; echo "rc=$?"; date +%s.%N; } >"$WORK/s4a.r" 2>&1 &
	r=$!
	check "S4 adding $how: both return (no deadlock)" wait_pids 20 $w $r
	check "S4 adding $how: the path succeeds" grep -q '^rc=0$' "$WORK/s4a.r"
	if [ "$how" = unbind ] || [ "$how" = "error recovery" ]; then
		# The path began while the write was inside and returned
		# after it (it waited for the device lock); the write added
		# its VFs, which died before the PF's driver let go.
		check "S4 adding $how: the path began before the write returned" before "$t_path" "$(field "$WORK/s4a.w" 2)"
		# That it waited for the write is in the trace, below: the
		# write added its VFs (its own result) and each one died
		# before the PF's driver let go. The two processes' return
		# times cannot say it: the write returns only after the
		# view's invalidations, once the device lock is released, so
		# the path may return first.
		expect_eq "S4 adding $how: the write added its VFs" "$(field "$WORK/s4a.w" 1)" OK
		check "S4 adding $how: each VF dead before the PF's driver let go" s4_ordered
	else
		# the removal's root: the PF, or its port for the parent's
		local root=$PF4
		[ "$how" = "parent removal" ] && root=0000:00:01.0
		check "S4 adding $how: the removal began while the write was inside" \
			in_order "$(field "$WORK/s4a.w" 4)" "$(trace_ts remove-start $root)" "$(field "$WORK/s4a.w" 5)"
		check "S4 adding $how: the trace: remove-start, drained of $root, dead of the PF" \
			in_order "$(trace_seq remove-start $root)" "$(trace_seq drained $root)" "$(trace_seq dead $PF4)"
		expect_eq "S4 adding $how: the write is refused" "$(field "$WORK/s4a.w" 1)" ENODEV
	fi
}
s4_adding "sysfs remove" sh -c "echo 1 > '$D/$PF4/remove'"
expect_eq "S4 adding sysfs remove: no VF left" "$(s4_vfs)" 0
check "S4 adding: rescan brings it back" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
s4_adding eject "$DEVLIFECTL" -s "$SOCK" eject $PF4
expect_eq "S4 adding eject: no VF left" "$(s4_vfs)" 0
check "S4 adding: the host adds it again" CTL add $PF4 $PF4_KV op_delay_us=1500000
s4_adding "error recovery" "$DEVLIFECTL" -s "$SOCK" error $PF4
check "S4 adding error recovery: removed and rescanned" grep -q "removed and rescanned" "$WORK/s4a.r"
expect_eq "S4 adding error recovery: the new PF's probe brought 4 VFs" "$(s4_vfs)" 4
s4_adding unbind sh -c "echo $PF4 > '$MNT/bus/pci/drivers/sriov-pf/unbind'"
expect_eq "S4 adding unbind: no VF left, the PF stays" "$(s4_vfs) $(test -e "$D/$PF4/config" && echo there)" "0 there"
check "S4 adding: bind again" bash -c "echo $PF4 > '$MNT/bus/pci/drivers/sriov-pf/bind'"
s4_adding "parent removal" sh -c "echo 1 > '$D/0000:00:01.0/remove'"
expect_eq "S4 adding parent removal: no VF left" "$(s4_vfs)" 0
check "S4 adding: rescan brings both back" bash -c "echo 1 > '$MNT/bus/pci/rescan'"
expect_eq "S4 adding: 4 VFs again" "$(s4_vfs)" 4
lspci_resume

# ------------------------------------------------------------------------
# S5 (seed 001): sriov_numvfs is written while the PF is being removed,
# the AB-BA that mainline Linux can hit (the store holds the PF's device
# lock; the removal path holds the rescan lock and wants the device lock).
# Here the write holds active(PF) and then the PF's device lock for 2 s in
# sriov_configure; the removal waits for it holding no device lock, the
# VF adds are refused, the write fails. No deadlock, no VF afterwards.
# The race must have happened: a write that simply succeeded (the
# removal began too late) fails the case.
PF5=0000:01:01.0
PF5_KV="vendor=0x8086 device=0x1572 class=0x020000 bar0=1M,64 sriov=8,offset=0x88,stride=1,vfdev=0x154d vfbar0=16K,64,pref driver=sriov-pf"
s5_vfs() { ls "$D" | grep -c '^0000:01:12\.'; }
s5_case() { # how the PF goes: "remove" (sysfs) or "eject" (host)
	local how=$1 adds
	lspci_pause # its reads would count as users of the PF
	check "S5 $how: a PF whose sriov_configure takes 2 s" CTL add $PF5 $PF5_KV op_delay_us=2000000
	adds=$(trace_count add 0000:01:12.0)
	rm -f "$WORK/s5.ready" "$WORK/s5.go"
	write_errno "$D/$PF5/sriov_numvfs" 4 "$WORK/s5.w" "$WORK/s5.ready" "$WORK/s5.go" &
	local w=$!
	wait_until test -e "$WORK/s5.ready"
	touch "$WORK/s5.go"
	check "S5 $how: the write is inside the PF" wait_until users_is $PF5 1
	if [ "$how" = remove ]; then
		shell_write "$D/$PF5/remove" 1 "$WORK/s5.r" &
	else
		{ CTL eject $PF5 >/dev/null 2>&1 && echo OK $(date +%s.%N) || echo FAIL; } >"$WORK/s5.r" &
	fi
	local r=$!
	check "S5 $how: both return (no deadlock)" wait_pids 20 $w $r
	expect_eq "S5 $how: the removal succeeds" "$(field "$WORK/s5.r" 1)" OK
	# the write holds the PF for 2 s from its start: the removal waited
	check "S5 $how: the removal waited for the write" before "$(field "$WORK/s5.w" 3)" "$(field "$WORK/s5.r" 2)" 1.95
	# The race: the removal began after the write had started, and
	# went through its drain to the PF's death; the write was refused
	# and added no VF.
	check "S5 $how: the removal began while the write was inside" \
		in_order "$(field "$WORK/s5.w" 4)" "$(trace_ts remove-start $PF5)" "$(field "$WORK/s5.w" 5)"
	check "S5 $how: the trace: remove-start, drained, dead of the PF" \
		in_order "$(trace_seq remove-start $PF5)" "$(trace_seq drained $PF5)" "$(trace_seq dead $PF5)"
	expect_eq "S5 $how: the write is refused" "$(field "$WORK/s5.w" 1)" ENODEV
	expect_eq "S5 $how: no VF was ever added" "$(( $(trace_count add 0000:01:12.0) - adds ))" 0
	expect_eq "S5 $how: no VF is left" "$(s5_vfs) $($LSPCI -n 2>/dev/null | grep -c 8086:154d)" "0 0"
	check "S5 $how: the PF is gone" gone "$D/$PF5"
	[ "$how" = remove ] && CTL eject $PF5 >/dev/null 2>&1 # the hardware, too
	lspci_resume
}
s5_case remove
s5_case eject
# The removal first (held open by a 1 s config read), the write after it.
lspci_pause
check "S5 late: a slow PF" CTL add $PF5 $PF5_KV delay_us=1000000
write_errno "$D/$PF5/sriov_numvfs" 4 "$WORK/s5l.w" "$WORK/s5l.ready" "$WORK/s5l.go" &
w=$!
wait_until test -e "$WORK/s5l.ready"
timed_read "$D/$PF5/config" "$WORK/s5l.read" &
rd=$!
check "S5 late: a config read is inside" wait_until users_ge $PF5 2
echo 1 >"$D/$PF5/remove" &
r=$!
check "S5 late: the removal has begun" wait_until removal_begun $PF5
touch "$WORK/s5l.go"
check "S5 late: all return" wait_pids 20 $w $rd $r
expect_eq "S5 late: the write is refused" "$(field "$WORK/s5l.w" 1)" ENODEV
expect_eq "S5 late: the read got its data" "$(field "$WORK/s5l.read" 1)" 4096
expect_eq "S5 late: no VF" "$(s5_vfs)" 0
CTL eject $PF5 >/dev/null 2>&1
lspci_resume

# ------------------------------------------------------------------------
# S8 (seed 003): a child is created while its parent is being removed.
# mdev-parent's create waits 1.5 s inside the parent before adding the
# child. Safe outcome: the child is never created (ENODEV), or created
# and then removed by the parent's teardown; never left behind. Case a
# must race: a create that simply succeeded fails it.
G=0000:00:02.0
G_KV="vendor=0x8086 device=0x3e92 class=0x030000 bar0=16M,64 mdev_types=vgpu:4 driver=mdev-parent op_delay_us=1500000"
GP=$MNT/devices/pci0000:00/$G
no_orphan() { # no mediated device without its parent, wherever it would hang
	[ -z "$(ls "$MNT/bus/mdev/devices")" ] && ! CTL tree | grep -q '^[^ ]*-0000-4000-' &&
		! CTL tree | grep -qv '^pci\|^ '
}
U1=$(uuid 81)
lspci_pause
write_errno "$GP/mdev_supported_types/vgpu/create" "$U1" "$WORK/s8.c" "$WORK/s8.ready" "$WORK/s8.go" &
c=$!
wait_until test -e "$WORK/s8.ready"
touch "$WORK/s8.go"
check "S8 a: the create is inside the parent" wait_until users_is $G 1
shell_write "$GP/remove" 1 "$WORK/s8.r" &
r=$!
check "S8 a: both return" wait_pids 20 $c $r
expect_eq "S8 a: the parent is removed" "$(field "$WORK/s8.r" 1)" OK
# the create holds the parent for 1.5 s from its start: the removal waited
check "S8 a: the removal waited for the create" before "$(field "$WORK/s8.c" 3)" "$(field "$WORK/s8.r" 2)" 1.45
# The race: the removal began after the create had started and went
# through its drain to the parent's death; the create was refused and
# the child never added.
check "S8 a: the removal began while the create was inside" \
	in_order "$(field "$WORK/s8.c" 4)" "$(trace_ts remove-start $G)" "$(field "$WORK/s8.c" 5)"
check "S8 a: the trace: remove-start, drained, dead of the parent" \
	in_order "$(trace_seq remove-start $G)" "$(trace_seq drained $G)" "$(trace_seq dead $G)"
expect_eq "S8 a: the create is refused" "$(field "$WORK/s8.c" 1)" ENODEV
expect_eq "S8 a: the child was never added" "$(trace_count add "$U1")" 0
check "S8 a: no orphan" no_orphan
lspci_resume
check "S8: rescan" bash -c "echo 1 > '$MNT/bus/pci/rescan'"

U2=$(uuid 82)
check "S8 b: a child" bash -c "echo $U2 > '$GP/mdev_supported_types/vgpu/create'"
CTL eject $G >/dev/null 2>&1 &
check "S8 b: the host ejects the parent" wait_pids 20 $!
check "S8 b: the child went first" dead_before "$U2" $G
check "S8 b: no orphan" no_orphan

# the removal first, held open by a 1 s config read; a create after it
lspci_pause
check "S8 c: a slow parent" CTL add $G $G_KV delay_us=1000000
U3=$(uuid 83)
write_errno "$GP/mdev_supported_types/vgpu/create" "$U3" "$WORK/s8c.c" "$WORK/s8c.ready" "$WORK/s8c.go" &
c=$!
wait_until test -e "$WORK/s8c.ready"
timed_read "$GP/config" "$WORK/s8c.read" &
rd=$!
check "S8 c: a config read is inside" wait_until users_ge $G 2
echo 1 >"$GP/remove" &
r=$!
check "S8 c: the removal has begun" wait_until removal_begun $G 3
touch "$WORK/s8c.go"
check "S8 c: all return" wait_pids 20 $c $rd $r
expect_eq "S8 c: the create is refused" "$(field "$WORK/s8c.c" 1)" ENODEV
expect_eq "S8 c: never added" "$(trace_count add "$U3")" 0
check "S8 c: no orphan" no_orphan
CTL eject $G >/dev/null 2>&1
lspci_resume

# ------------------------------------------------------------------------
# S9 (seed 003): a user removes a child while its parent is being removed
# (or its driver unbound). The child's remove (mdev-parent's hook) takes
# 1.5 s. Safe outcome: exactly one removal of the child, which runs while
# the parent's driver is still bound; both callers return only after the
# child is gone. The parent's removal must have begun while the child's
# was in progress (from the trace), or the case fails.
s9_case() { # how the parent goes: "remove" (sysfs) or "unbind"
	local how=$1 u=$2 c p
	check "S9 $how: a parent" CTL add $G $G_KV
	check "S9 $how: a child" bash -c "echo $u > '$GP/mdev_supported_types/vgpu/create'"
	# the parent's writer first, its file open, waiting for the go
	rm -f "$WORK/s9.ready" "$WORK/s9.go"
	if [ "$how" = remove ]; then
		write_errno "$GP/remove" 1 "$WORK/s9.p" "$WORK/s9.ready" "$WORK/s9.go" &
	else
		write_errno "$MNT/bus/pci/drivers/mdev-parent/unbind" $G "$WORK/s9.p" "$WORK/s9.ready" "$WORK/s9.go" &
	fi
	p=$!
	check "S9 $how: the parent's writer is ready" wait_until test -e "$WORK/s9.ready"
	write_errno "$GP/$u/remove" 1 "$WORK/s9.c" &
	c=$!
	check "S9 $how: the child's removal is in its driver's remove" wait_until removal_begun "$u"
	touch "$WORK/s9.go"
	check "S9 $how: both return" wait_pids 20 $c $p
	# the overlap: the parent's removal (or unbind) began after the
	# child's removal started and before the child was dead
	if [ "$how" = remove ]; then
		check "S9 $how: the trace: the child's remove-start, the parent's, the child's dead" \
			in_order "$(trace_seq remove-start "$u")" "$(trace_seq remove-start $G)" "$(trace_seq dead "$u")"
	else
		check "S9 $how: the unbind began while the child's removal was in progress" \
			in_order "$(trace_ts remove-start "$u")" "$(field "$WORK/s9.p" 4)" "$(trace_ts dead "$u")"
	fi
	expect_eq "S9 $how: both succeed" "$(field "$WORK/s9.c" 1) $(field "$WORK/s9.p" 1)" "OK OK"
	expect_eq "S9 $how: exactly one removal of the child" "$(trace_count remove-start "$u") $(trace_count unbind "$u") $(trace_count dead "$u")" "1 1 1"
	check "S9 $how: the child's remove ran before the parent's driver's" test "$(trace_seq unbind "$u")" -lt "$(trace_seq unbind $G)"
	check "S9 $how: the child was dead first" test "$(trace_seq dead "$u")" -lt "$(trace_seq unbind $G)"
	expect_eq "S9 $how: mdev-parent saw its driver bound throughout" "$(violations)" 0
	check "S9 $how: no orphan" no_orphan
	CTL eject $G >/dev/null 2>&1
}
s9_case remove "$(uuid 91)"
s9_case unbind "$(uuid 92)"

# ------------------------------------------------------------------------
# S10 (seed 004): auto-online's probe queues an online on the driver's
# ordered queue; the device is removed before it runs, or while it runs.
# Safe outcome: an online never runs on a device being removed; online,
# offline and remove never overlap (the driver checks both).
lspci_pause # its reads would count as users of A
AO_KV="vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K driver=auto-online op_delay_us=2000000"
check "S10: A, whose online takes 2 s" CTL add 0000:00:10.0 $AO_KV
check "S10: B, its online queued behind A's" CTL add 0000:00:11.0 $AO_KV
echo 1 >"$D/0000:00:11.0/remove" &
check "S10 queued: B's removal returns" wait_pids 20 $!
check "S10 queued: without waiting for A's online" test "$(trace_seq dead 0000:00:11.0)" -lt "$(trace_seq online 0000:00:10.0)" -o "$(trace_seq online 0000:00:10.0)" = 0
expect_eq "S10 queued: B's online was cancelled, never ran" "$(trace_count work-cancel 0000:00:11.0) $(trace_count online 0000:00:11.0)" "1 0"
check "S10 running: A's online is in progress" wait_until users_ge 0000:00:10.0 1
echo 1 >"$D/0000:00:10.0/remove" &
check "S10 running: A's removal returns" wait_pids 20 $!
on=$(trace_seq online 0000:00:10.0)
check "S10 running: A's online, if it ran, finished before A was dead" test "$on" -lt "$(trace_seq dead 0000:00:10.0)"
# online and offline from the shell while the device goes
check "S10 shell: C" CTL add 0000:00:12.0 vendor=0x1af4 device=0x1041 class=0x020000 bar1=4K driver=auto-online remove_delay_us=300000
( for _ in $(seq 1 50); do echo 0 >"$D/0000:00:12.0/online"; echo 1 >"$D/0000:00:12.0/online"; done ) 2>/dev/null &
sh=$!
echo 1 >"$D/0000:00:12.0/remove" &
check "S10 shell: all return" wait_pids 20 $sh $!
check "S10 shell: no online or offline after the removal began" test "$(CTL trace --raw | awk '$4 == "0000:00:12.0" { if ($3 == "remove-start") r = 1; else if (r && ($3 == "online" || $3 == "offline")) bad = 1 } END { print bad + 0 }')" = 0
expect_eq "S10: online never ran on a dying device, callbacks never overlapped" "$(violations)" 0
lspci_resume

rm -f "$WORK/lspci.run"
check "the lspci loop ends" wait_pids 20 $LOOP
check "devlifed exits 0 on SIGTERM (no leak)" stop_daemon
finish
