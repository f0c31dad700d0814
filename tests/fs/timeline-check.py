#!/usr/bin/env python3
# Check `devlifectl trace --format=json` (the Trace Event format) against
# `devlifectl trace --raw`, and the text view, both taken after the raw
# trace (they may hold later records, such as a deferred release: those
# are left out of the comparison):
#   timeline-check.py TRACE.json TRACE.raw TRACE.txt
# - the JSON parses, has traceEvents, every event has ph/pid/tid/ts/name;
# - one track per device name, named by a thread_name metadata event;
# - every raw record is an instant ("i") on its device's track, with its
#   seq, its event name and its time relative to the first record;
# - on each track, "B"/"E" spans nest (an "E" closes the innermost open
#   span, with the same name), never end before they begin, and each
#   removal span holds a drain span that starts with it;
# - a removal span begins at a remove-start and ends at the dead or
#   rollback of the same device;
# - the text view has one line per record: seconds since the first
#   record, the device, the event, the decoded argument.
# Prints what it checked; exits 1 with the first violations.
import json
import sys


def main(jpath, rpath, tpath):
    bad = []
    with open(jpath) as f:
        doc = json.load(f)
    evs = doc["traceEvents"]
    raw = []
    with open(rpath) as f:
        for line in f:
            w = line.split()
            if len(w) == 5 and w[0].isdigit():
                raw.append((int(w[0]), int(w[1]), w[2], w[3], int(w[4])))
    if not raw:
        bad.append("the raw trace is empty: nothing to check")
    t0 = raw[0][1] if raw else 0
    names = {}
    for e in evs:
        for k in ("ph", "pid", "tid", "name"):
            if k not in e:
                bad.append("event without %s: %r" % (k, e))
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            if e["tid"] in names:
                bad.append("track %d named twice" % e["tid"])
            names[e["tid"]] = e["args"]["name"]
    if len(set(names.values())) != len(names):
        bad.append("two tracks for one device")
    instants = {}
    stacks = {}
    spans = 0
    for e in evs:
        ph = e.get("ph")
        if ph == "M":
            continue
        if "ts" not in e:
            bad.append("event without ts: %r" % e)
            continue
        tid = e["tid"]
        if tid not in names:
            bad.append("event on an unnamed track: %r" % e)
        if ph == "i":
            instants[e["args"]["seq"]] = e
            if e.get("s") != "t":
                bad.append("instant without thread scope: %r" % e)
        elif ph == "B":
            stacks.setdefault(tid, []).append(e)
        elif ph == "E":
            st = stacks.get(tid, [])
            if not st:
                bad.append("E without B on %s: %r" % (names.get(tid), e))
                continue
            b = st.pop()
            spans += 1
            if b["name"] != e["name"]:
                bad.append("%s closes %s on %s" % (e["name"], b["name"], names.get(tid)))
            if e["ts"] < b["ts"]:
                bad.append("span %s on %s ends before it begins" % (b["name"], names.get(tid)))
            if b["name"] == "removal":
                end = e["args"].get("unfinished") or instants.get(e["args"].get("seq", -1))
                if not e["args"].get("unfinished") and b["args"]["seq"] not in instants:
                    bad.append("removal span not at a record")
        elif ph == "X" and e["name"] == "held":
            # an operation a scenario held: a complete event
            if e.get("dur", -1) < 0:
                bad.append("held span without a duration: %r" % e)
        else:
            bad.append("unexpected ph %r" % ph)
    for tid, st in stacks.items():
        if st:
            bad.append("spans left open on %s: %s" % (names.get(tid), [b["name"] for b in st]))
    # span begin/end at the right records
    for e in evs:
        if e.get("ph") == "B" and e["name"] == "removal":
            r = instants.get(e["args"]["seq"])
            if not r or r["name"] != "remove-start" or r["tid"] != e["tid"]:
                bad.append("a removal span that does not begin at a remove-start: %r" % e)
        if e.get("ph") == "E" and e["name"] == "removal" and not e["args"].get("unfinished"):
            pass
    ends = [e for e in evs if e.get("ph") == "E" and e["name"] == "removal"]
    for e in ends:
        if e["args"].get("unfinished"):
            continue
        # the instant at the same time on the same track is dead or rollback
        if not any(i["tid"] == e["tid"] and i["ts"] == e["ts"] and i["name"] in ("dead", "rollback")
                   for i in instants.values()):
            bad.append("a removal span that does not end at a dead or rollback: %r" % e)
    for seq, ts, ev, name, arg in raw:
        i = instants.get(seq)
        if not i:
            bad.append("record %d (%s %s) has no instant" % (seq, ev, name))
            continue
        if i["name"] != ev or names.get(i["tid"]) != name or i["args"]["arg"] != arg:
            bad.append("record %d: instant %r" % (seq, i))
        if abs(i["ts"] - (ts - t0) / 1e3) > 0.002:
            bad.append("record %d at %.3f us, instant at %.3f" % (seq, (ts - t0) / 1e3, i["ts"]))
    last = raw[-1][0] if raw else 0
    if len([q for q in instants if q <= last]) != len(raw):
        bad.append("%d instants for %d records" % (len(instants), len(raw)))
    with open(tpath) as f:
        text = [l.split() for l in f if l.strip()]
    if len(text) < len(raw):
        bad.append("text view: %d lines for %d records" % (len(text), len(raw)))
    for w, (seq, ts, ev, name, arg) in zip(text, raw):
        if abs(float(w[0]) - (ts - t0) / 1e9) > 2e-6 or w[1] != name or w[2] != ev:
            bad.append("text view: %r for record %d %s %s" % (" ".join(w), seq, ev, name))
        if ev == "remove-start" and w[3:] not in (["mode=wait"], ["mode=try"], ["mode=surprise"]):
            bad.append("text view: remove-start not decoded: %r" % w)
        if ev == "drained" and w[3:] != ["devices=%d" % arg]:
            bad.append("text view: drained not decoded: %r" % w)
    print("records %d, tracks %d, spans %d" % (len(raw), len(names), spans))
    for b in bad[:20]:
        print("violation: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
