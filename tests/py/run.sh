#!/usr/bin/env bash
# The Python module's tests (pytest from Debian), as TAP: one case per
# pytest test, from pytest's -rA summary.
set -u
PYTEST=${PYTEST:-pytest-3}
if ! command -v "$PYTEST" >/dev/null; then
	[ "${DL_REQUIRE_ALL:-0}" = 1 ] && { echo "Bail out! $PYTEST is not installed (python3-pytest)"; exit 1; }
	echo "1..0 # SKIP $PYTEST is not installed (python3-pytest)"
	exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$PYTEST" -p no:cacheprovider -rA -q "$(dirname "$0")" >"$out" 2>&1
status=$?
awk '
/^(PASSED|FAILED|ERROR|SKIPPED) / {
	n++
	if ($1 == "PASSED") print "ok " n " - " $2
	else if ($1 == "SKIPPED") print "ok " n " - # SKIP " $0
	else { print "not ok " n " - " $2; bad = 1 }
}
END { print "1.." n + 0 }' "$out"
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
	sed 's/^/# /' "$out"
	exit 1
fi
