#!/usr/bin/env python3
"""Count TAP results over a meson test log and print 'N passed, N failed'.

Each test program speaks TAP; every 'ok'/'not ok' line is one test case.
A program that failed without printing a 'not ok' (crash, timeout, bad
plan) counts as one failure of its own. Exits 1 if anything failed.
Each failure is printed with what its program said about it (the TAP
diagnostics after a 'not ok', or the end of a failed program's output),
so that a run whose full logs are not kept still shows why.
"""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        print(f"no test log at {path}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        out = entry.get("stdout") or ""
        p = f = s = 0
        taplines = out.splitlines()
        for i, tap in enumerate(taplines):
            m = re.match(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$", tap)
            if not m:
                continue
            if m.group(1) == "ok":
                if re.search(r"#\s*SKIP", m.group(2), re.I):
                    s += 1
                else:
                    p += 1
            else:
                f += 1
                diag = []
                for d in taplines[i + 1:]:
                    if not d.startswith("#") or len(diag) == 80:
                        break
                    diag.append(d)
                failures.append((f"{entry['name']}: {m.group(2)}", diag))
        result = entry.get("result", "")
        if result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and f == 0:
            f = 1
            tail = (out + (entry.get("stderr") or "")).splitlines()[-30:]
            failures.append((f"{entry['name']}: {result}", tail))
        if result == "SKIP" and p + f + s == 0:
            s = 1
        if p + f + s == 0 and result == "OK":
            p = 1
        passed += p
        failed += f
        skipped += s

for what, said in failures:
    print(f"FAILED: {what}")
    for d in said:
        print(f"    {d[:300]}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
