#!/usr/bin/env python3
"""Draw a `devlifectl trace --format=json` timeline as SVG (standard
library only), for documents where Perfetto is not at hand:

    timeline-svg.py TRACE.json [--from SEQ] > timeline.svg

One row per track (device), in the order the tracks appear; spans ("B"/
"E") as bars, nested spans inside their parents, instants as ticks with
their names. --from SEQ starts at the record SEQ (an earlier part of the
trace, such as the tree's creation, is left out). Time runs left to
right on a linear scale, in microseconds from the first record drawn.
"""
import json
import sys
from xml.sax.saxutils import escape

ROW, LEFT, WIDTH = 46, 130, 900
COLORS = {"removal": "#f4c7a1", "drain": "#d9534f"}


def main(argv):
    path = argv[1]
    start = int(argv[argv.index("--from") + 1]) if "--from" in argv else 0
    evs = json.load(open(path))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in evs
             if e["ph"] == "M" and e["name"] == "thread_name"}
    first = [e["ts"] for e in evs if e["ph"] == "i" and e["args"]["seq"] >= start]
    if not first:
        sys.exit("nothing to draw")
    t0 = min(first)
    drawn = [e for e in evs if e["ph"] != "M" and e["ts"] >= t0]
    t1 = max(e["ts"] for e in drawn)
    span = max(t1 - t0, 1.0)
    order = []
    for e in drawn:
        if e["tid"] not in order:
            order.append(e["tid"])
    x = lambda ts: LEFT + (ts - t0) / span * WIDTH
    h = ROW * len(order) + 50
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="10">' % (LEFT + WIDTH + 80, h),
           '<rect width="100%" height="100%" fill="white"/>']
    for row, tid in enumerate(order):
        y = 20 + row * ROW
        out.append('<text x="4" y="%d" font-size="11">%s</text>' % (y + 24, escape(names.get(tid, "?"))))
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#ddd"/>' % (LEFT, LEFT + WIDTH, y + ROW - 2, y + ROW - 2))
        stack = []
        rects = []
        labels = 0
        for e in drawn:
            if e["tid"] != tid:
                continue
            if e["ph"] == "B":
                stack.append(e)
            elif e["ph"] == "E" and stack:
                b = stack.pop()
                d = len(stack)
                rects.append((d, '<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.85">'
                           '<title>%s</title></rect>' % (
                               x(b["ts"]), y + 14 + 5 * d, max(x(e["ts"]) - x(b["ts"]), 1.5),
                               20 - 10 * d, COLORS.get(b["name"], "#9ecae1"), escape(b["name"]))))
            elif e["ph"] == "i":
                if e["args"]["seq"] < start:
                    continue
                xi = x(e["ts"])
                out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black"/>' % (xi, xi, y + 10, y + 36))
                out.append('<text x="%.1f" y="%d" fill="#333">%s</text>' % (
                    xi + 2, y + 8 + (labels % 2) * 38, escape(e["name"])))
                labels += 1
        # outer spans first, inner ones on top
        out[len(out):len(out)] = [r for _, r in sorted(rects, key=lambda r: r[0])]
    out.append('<text x="%d" y="%d">0 us</text>' % (LEFT, h - 8))
    out.append('<text x="%d" y="%d" text-anchor="end">%.0f us</text>' % (LEFT + WIDTH, h - 8, span))
    out.append('<rect x="%d" y="%d" width="14" height="8" fill="%s"/><text x="%d" y="%d">removal</text>' % (
        LEFT + 200, h - 16, COLORS["removal"], LEFT + 218, h - 8))
    out.append('<rect x="%d" y="%d" width="14" height="8" fill="%s"/><text x="%d" y="%d">drain</text>' % (
        LEFT + 290, h - 16, COLORS["drain"], LEFT + 308, h - 8))
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
