#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Which rules of a udev rules file an event matches, as udevd decides it
(man udev(7)): every match key of the rule must hold -- ACTION==,
SUBSYSTEM==, KERNEL== (the device's name, DEVPATH's last part),
ENV{KEY}== (the event's property) and TEST== (a path that exists, after
$kernel/%k is replaced by the name); != negates. For each event (one JSON
object a line, as nl-listen.py dumps udev's copies) and each rule it
matches, prints "LINE ACTION DEVPATH" and then the rule's RUN+= programs
with %k and $kernel replaced, one "run PROGRAM" line each.

Only the keys above are understood; a rule with any other match key is
reported as "unsupported LINE KEY" (and matches nothing), so a rules file
that grew is noticed.

  udev-rules.py RULES EVENTS
"""
import json
import os
import re
import sys

KEY = re.compile(r'\s*([A-Z_]+(?:\{[^}]*\})?)\s*(==|!=|\+=|=|:=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse(path):
    rules = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keys, pos = [], 0
        while pos < len(line):
            m = KEY.match(line, pos)
            if not m:
                raise SystemExit("%s:%d: cannot parse %r" % (path, n, line[pos:]))
            keys.append(m.groups())
            pos = m.end()
        rules.append((n, keys))
    return rules


def subst(text, name):
    return text.replace("$kernel", name).replace("%k", name)


def holds(key, op, value, ev, name):
    if key == "ACTION":
        got = ev.get("ACTION")
    elif key == "SUBSYSTEM":
        got = ev.get("SUBSYSTEM")
    elif key == "KERNEL":
        got = name
    elif key.startswith("ENV{"):
        got = ev.get(key[4:-1])
    elif key == "TEST":
        r = os.path.exists(subst(value, name))
        return r if op == "==" else not r
    else:
        return None
    r = got == value  # the rules here use no glob
    return r if op == "==" else not r


def main():
    rules = parse(sys.argv[1])
    for line in open(sys.argv[2]):
        ev = json.loads(line)
        name = ev["DEVPATH"].rsplit("/", 1)[1]
        for n, keys in rules:
            ok = True
            for key, op, value in keys:
                if op not in ("==", "!="):
                    continue
                h = holds(key, op, value, ev, name)
                if h is None:
                    print("unsupported %d %s" % (n, key))
                    ok = False
                elif not h:
                    ok = False
            if not ok:
                continue
            print("%d %s %s" % (n, ev["ACTION"], ev["DEVPATH"]))
            for key, op, value in keys:
                if key == "RUN" and op in ("+=", "="):
                    print("run %s" % subst(value, name))


main()
