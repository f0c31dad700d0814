#!/usr/bin/env python3
"""Check that every public function is documented: a kernel-doc block
right above its prototype, naming it, with Context: and, unless it
returns void, Return:. Names starting with dl__ are internal. Prints
TAP."""
import re
import sys
import pathlib

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
headers = sorted((root / "include" / "devlife").glob("*.h"))
proto = re.compile(r"^(?:[a-z_]+[\s\*]+)+?\**(dl_[a-z0-9_]+)\(", re.M)
results = []
for h in headers:
    text = h.read_text()
    for m in proto.finditer(text):
        name = m.group(1)
        if name.startswith("dl__"):
            continue  # internal (the inline fast path's helpers)
        start = m.start()
        before = text[:start].rstrip()
        ok = before.endswith("*/")
        why = ""
        if ok:
            doc = before[before.rfind("/**"):]
            line = text[start:text.find(";", start)]
            returns_void = re.match(r"^\s*(?:static\s+)?(?:inline\s+)?void\s+dl_", line) is not None
            if f"{name}()" not in doc:
                ok, why = False, "comment does not name it"
            elif "Context:" not in doc:
                ok, why = False, "no Context:"
            elif not returns_void and "Return" not in doc:
                ok, why = False, "no Return:"
        else:
            why = "no comment"
        results.append((ok, f"{h.name}: {name}" + (f" # {why}" if why else "")))
print(f"1..{len(results)}")
for i, (ok, what) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {what}")
sys.exit(0 if all(ok for ok, _ in results) else 1)
