#!/usr/bin/env python3
# Check a devlifed trace stream (`devlifectl trace --raw --follow` output: one
# "SEQ TS EVENT NAME ARG" line per event) against the lifecycle grammar
# of tests/scenarios/test-stress.c, per device name. Names are reused
# once a device is DEAD, so "release" (which may come after the next
# incarnation's "add") is not attributed; a "dropped N events" line
# forgets what it knew (it resynchronizes at the next add or dead).
# Strict, as S12; DL_STRESS_STRICT=0 tolerates (and counts) the
# disorders of two fixed core bugs, for bisecting: an event recorded
# before its device's add, a claim-request after its device's drain.
# Prints "events N, devices N, ..." and exits 1 on a violation, and on
# a stream that shows no whole lifecycle (no add, remove-start, drained
# and dead): a follower that recorded nothing, or stopped early, proves
# nothing about the daemon.
import os
import sys

STRICT = os.environ.get("DL_STRESS_STRICT", "1") != "0"
NONE, LIVE, REMOVING, DRAINED, DEAD, UNKNOWN = range(6)
NAMES = ["new", "live", "removing", "drained", "dead", "unknown"]


class Dev:
    def __init__(self):
        self.st = NONE
        self.bound = False
        self.claimed = False
        self.early = False


def main(path):
    devs = {}
    bad = []
    events = early = drops = 0
    seen = set()
    last_seq = None
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    # Watchers (the follower's source) are called after the ring's lock
    # is dropped, so the stream is in notification order: put it back in
    # sequence order (the order of the state changes) first.
    evs = []
    for ln, line in enumerate(lines, 1):
        w = line.split()
        if w and w[0] == "dropped":
            drops += 1
        elif len(w) == 5 and w[0].isdigit():
            evs.append((int(w[0]), ln, w[2], w[3]))
    evs.sort()
    for seq, ln, ev, name in evs:
        if last_seq is not None and seq != last_seq + 1:
            if not drops:
                bad.append("line %d: sequence %d after %d, nothing dropped"
                           % (ln, seq, last_seq))
            for d in devs.values():
                d.st = UNKNOWN
        last_seq = seq
        events += 1
        seen.add(ev)
        # Notes of the layers above the core (a host event reaching its
        # bus, a race scenario's steps) are in the sequence but are not
        # a device's lifecycle.
        if ev == "host" or ev.startswith("scen-"):
            continue
        if ev == "release":
            continue
        d = devs.setdefault(name, Dev())
        st = d.st
        if st == UNKNOWN:
            if ev == "add":
                d.__init__()
                d.st = LIVE
            elif ev == "dead":
                d.__init__()
                d.st = DEAD
            continue
        if st in (NONE, DEAD) and ev != "add" and not STRICT:
            # a fixed bug (DL_STRESS_STRICT=0): an event before the add
            early += 1
            d.__init__()
            d.st, d.early = LIVE, True
            st = LIVE
        live = st == LIVE
        pre = st in (LIVE, REMOVING)
        ok = True
        if ev == "add":
            if d.early:
                ok, d.early = st in (LIVE, REMOVING), False
            else:
                ok = st in (NONE, DEAD)
                d.__init__()
                d.st = LIVE
        elif ev == "remove-start":
            ok, d.st = live, REMOVING
        elif ev == "surprise":
            ok = st == REMOVING
        elif ev == "claim-request":
            ok = pre or (not STRICT and st in (DRAINED, DEAD))
        elif ev == "rollback":
            ok, d.st = st == REMOVING, LIVE
        elif ev == "drained":
            ok, d.st = st == REMOVING and not d.claimed and not d.early, DRAINED
        elif ev == "dead":
            ok, d.st = st == DRAINED and not d.bound and not d.claimed, DEAD
        elif ev == "bind":
            ok, d.bound = pre and not d.bound, True
        elif ev == "probe-fail":
            ok = pre and not d.bound
        elif ev == "unbind":
            ok, d.bound = (pre or st == DRAINED) and d.bound, False
        elif ev in ("online", "offline"):
            ok = pre and d.bound
        elif ev == "claim":
            ok, d.claimed = live and not d.claimed, True
        elif ev == "unclaim":
            ok, d.claimed = pre and d.claimed, False
        elif ev == "work-cancel":
            ok = st == DRAINED
        elif ev == "drain-slow":
            ok = st == REMOVING
        elif ev == "change":
            # VFs enabled, mdev types offered or withdrawn: from a
            # driver's probe or remove, or a write while it is bound
            ok = pre or st == DRAINED
        else:
            ok = False
        if not ok:
            bad.append("line %d: %s of %s when it was %s%s" % (
                ln, ev, name, NAMES[st], ", bound" if d.bound else ""))
    print("events %d, devices %d, dropped-notices %d, before-add %d (DL_STRESS_STRICT=0)"
          % (events, len(devs), drops, early))
    lifecycle = ("add", "remove-start", "drained", "dead")
    missing = [ev for ev in lifecycle if ev not in seen]
    if missing:
        bad.append("the stream has no %s event: nothing to check"
                   % ", no ".join(missing))
    for b in bad[:20]:
        print("violation: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
