#!/usr/bin/env python3
"""Count TAP results over a meson test log; the last line printed is
"N passed, N failed, N skipped" over the whole run.

    test-summary.py [--expect LIST] [--meson-status N] TESTLOG.json...

Each test program speaks TAP; every 'ok'/'not ok' line is one test case.
A run is green only if it finished; what did not is counted as failed:

  - a program that failed, crashed, timed out, was interrupted or exited
    non-zero without printing a 'not ok' counts one failure of its own;
  - a program whose TAP plan ("1..N") promises more cases than it
    reported counts each missing case as failed, and a program that
    printed no plan at all counts one failure;
  - with --expect LIST (the output of `meson test --list` with the same
    selection), each listed program that is missing from the log counts
    one failure: it never ran;
  - with --meson-status N, a non-zero exit status of `meson test` itself
    (interrupted, or a failure it saw that the log does not show) counts
    one failure if nothing else failed.

Skips are counted, each shown with its reason. The cases are broken down
by kind (C unit and scenario cases, end-to-end cases on the real FUSE
mount, the doc-comment lint, fuzz corpus replays, the model check) on
lines of their own above the total. Each failure is printed with what its
program said about it (the TAP diagnostics after a 'not ok', or the end
of a failed program's output), so that a run whose full logs are not kept
still shows why.

If DL_SUMMARY_FILE is set, "PASSED FAILED SKIPPED" is appended to that
file as one line, so that a caller (.ci/run) can add up several runs
without parsing what was printed. Exits 1 if anything failed.
"""
import json
import os
import re
import sys

# Which kind of case a program's suites make it: the first match wins.
KINDS = [
    ("lint", "doc-comment lint"),
    ("fuzz", "fuzz replays"),
    ("model", "model check"),
    ("fs", "end-to-end"),
    ("e2e", "end-to-end"),
    ("run", "end-to-end"),
]
DEFAULT_KIND = "C unit/scenario"
KIND_ORDER = [DEFAULT_KIND, "end-to-end", "doc-comment lint", "fuzz replays",
              "model check"]
FAILED_RESULTS = ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "INTERRUPT")

TAP_RESULT = re.compile(r"^(not ok|ok)\b\s*(\d*)\s*-?\s*(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
SKIP = re.compile(r"#\s*SKIP\S*\s*(.*)$", re.I)


def split_name(full):
    """'devlife:stress+e2e / stress-daemon' -> ({'stress', 'e2e'}, name)"""
    head, _, name = full.partition(" / ")
    suites = head.split(":", 1)[1] if ":" in head else head
    return set(suites.split("+")), name or full


def kind_of(suites):
    for suite, kind in KINDS:
        if suite in suites:
            return kind
    return DEFAULT_KIND


def count_program(entry, failures, skips):
    """(passed, failed, skipped) of one program's log entry."""
    name = entry["name"]
    out = entry.get("stdout") or ""
    taplines = out.splitlines()
    p = f = s = 0
    plan = None
    plan_skip = None
    bailed = None
    last_comment = ""
    for i, tap in enumerate(taplines):
        m = TAP_PLAN.match(tap)
        if m:
            plan = int(m.group(1))
            if plan == 0:
                plan_skip = m.group(2) or "no reason given"
            continue
        if tap.startswith("Bail out!"):
            bailed = tap
            continue
        if tap.startswith("#"):
            last_comment = tap.lstrip("# ").strip()
            continue
        m = TAP_RESULT.match(tap)
        if not m:
            continue
        if m.group(1) == "ok":
            sk = SKIP.search(m.group(3))
            if sk:
                s += 1
                reason = sk.group(1).strip()
                if not reason and last_comment.lower().startswith("skip"):
                    reason = last_comment.split(":", 1)[-1].strip()
                skips.append((f"{name}: {m.group(3)[:sk.start()].strip()}",
                               reason or "no reason given"))
            else:
                p += 1
        else:
            f += 1
            diag = []
            for d in taplines[i + 1:]:
                if not d.startswith("#") or len(diag) == 80:
                    break
                diag.append(d)
            failures.append((f"{name}: {m.group(3)}", diag))
        last_comment = ""

    result = entry.get("result", "")
    tail = (out + (entry.get("stderr") or "")).splitlines()[-30:]
    reported = p + f + s
    if plan is not None and plan > reported:
        f += plan - reported
        failures.append((f"{name}: planned {plan} cases, reported "
                         f"{reported}: {plan - reported} never ran "
                         f"({result})", tail))
    elif plan is None and result != "SKIP":
        f += 1
        failures.append((f"{name}: no TAP plan: the program did not finish "
                         f"({result})", tail))
    if bailed:
        f += 1
        failures.append((f"{name}: {bailed}", tail))
    if result in FAILED_RESULTS and f == 0:
        f = 1
        failures.append((f"{name}: {result} (exit status "
                         f"{entry.get('returncode')})", tail))
    if result == "SKIP" and p + f + s == 0:
        s = 1
        skips.append((name, plan_skip or (tail[-1] if tail else
                                          "no reason given")))
    return p, f, s


def main(argv):
    expect = None
    meson_status = 0
    logs = []
    args = iter(argv)
    for a in args:
        if a == "--expect":
            expect = next(args)
        elif a == "--meson-status":
            meson_status = int(next(args))
        else:
            logs.append(a)

    totals = {}
    failures, skips = [], []
    seen = set()

    def add(kind, counts):
        t = totals.setdefault(kind, [0, 0, 0])
        for i in range(3):
            t[i] += counts[i]

    for path in logs:
        try:
            lines = open(path, encoding="utf-8",
                         errors="replace").read().splitlines()
        except FileNotFoundError:
            failures.append((f"no test log at {path}: meson test did not "
                             "run", []))
            add(DEFAULT_KIND, (0, 1, 0))
            continue
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                failures.append((f"{path}: a truncated log line", []))
                add(DEFAULT_KIND, (0, 1, 0))
                continue
            suites, _ = split_name(entry["name"])
            seen.add(entry["name"])
            add(kind_of(suites), count_program(entry, failures, skips))

    if expect is not None:
        try:
            wanted = [l.strip() for l in open(expect, encoding="utf-8")
                      if re.match(r"^\S+:\S+ / \S", l.strip())]
        except FileNotFoundError:
            wanted = []
            failures.append((f"no list of the tests to run at {expect}", []))
            add(DEFAULT_KIND, (0, 1, 0))
        for name in wanted:
            if name not in seen:
                failures.append((f"{name}: never ran", []))
                add(kind_of(split_name(name)[0]), (0, 1, 0))

    failed = sum(t[1] for t in totals.values())
    if meson_status != 0 and failed == 0:
        failures.append((f"meson test exited with status {meson_status}",
                         []))
        add(DEFAULT_KIND, (0, 1, 0))

    for what, reason in skips:
        print(f"SKIPPED: {what}: {reason}")
    for what, said in failures:
        print(f"FAILED: {what}")
        for d in said:
            print(f"    {d[:300]}")
    for kind in KIND_ORDER + sorted(set(totals) - set(KIND_ORDER)):
        if kind in totals:
            p, f, s = totals[kind]
            print(f"  {kind}: {p} passed, {f} failed, {s} skipped")
    p = sum(t[0] for t in totals.values())
    f = sum(t[1] for t in totals.values())
    s = sum(t[2] for t in totals.values())
    summary_file = os.environ.get("DL_SUMMARY_FILE")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as sf:
            sf.write(f"{p} {f} {s}\n")
    print(f"{p} passed, {f} failed, {s} skipped")
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
