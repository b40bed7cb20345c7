"""What every Tools/reproduce/<paper>.py shares, standard-library Python only:

- SVG plots: `line_plot` (lines with markers, optional error bars, dashed series, horizontal reference
  lines, linear or log x axis) and `bar_plot` (grouped bars), both with axes, ticks, axis labels, a
  title and a legend;
- markdown: `markdown_table` and `beside_paper` (the paper's number next to ours, with the verdict);
- the summary row of a reproduction (`verdict_row`, written to results/<paper>/<mode>/verdict.json and
  collected into results/SUMMARY.md by summary.py) and the statistics its verdict rests on
  (`t_interval`, `auroc_standard_error`, `combine_verdicts`).

A verdict is one of VERDICTS: "reproduced" (the claim holds here, within the run's own uncertainty),
"partly" (part of it holds, or the direction holds but not the size), "not reproduced" (the run had
the power to see it and did not), "not comparable" (the run cannot test it: a precondition failed,
or the setting measures something else).
"""

import json
import math
import statistics
from pathlib import Path

VERDICTS = ("reproduced", "partly", "not reproduced", "not comparable")

# Colour-blind-safe palette (Okabe–Ito); series take colours in order unless they name one.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

# Two-sided 95% quantiles of Student's t, t_{0.975, df} for df = 1..30 (any statistics table).
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


# ---------------------------------------------------------------- statistics


def t_interval(values):
    """(mean, low, high): the mean and its two-sided 95% Student-t interval; (mean, mean, mean) for
    one value (no spread to estimate)."""
    values = [float(v) for v in values]
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    df = len(values) - 1
    t = _T975[df - 1] if df <= len(_T975) else 1.96
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def auroc_standard_error(auroc, positives, negatives):
    """Hanley & McNeil (1982) standard error of an AUROC from `positives` anomalous and `negatives`
    normal examples: SE² = (A(1−A) + (n₁−1)(Q₁−A²) + (n₂−1)(Q₂−A²)) / (n₁n₂), Q₁ = A/(2−A),
    Q₂ = 2A²/(1+A)."""
    a, n1, n2 = float(auroc), positives, negatives
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return math.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a), 0.0) / (n1 * n2))


def combine_verdicts(parts):
    """One verdict for a claim made of parts: all reproduced → reproduced; all not comparable → not
    comparable; none reproduced or partly (only not reproduced / not comparable) → not reproduced;
    otherwise partly."""
    parts = list(parts)
    for v in parts:
        if v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}")
    if all(v == "reproduced" for v in parts):
        return "reproduced"
    if all(v == "not comparable" for v in parts):
        return "not comparable"
    if not any(v in ("reproduced", "partly") for v in parts):
        return "not reproduced"
    return "partly"


# ---------------------------------------------------------------- summary rows


def verdict_row(paper, claim, paper_number, measured, interval, verdict, why, link, quick, run, parts=None, unit=""):
    """The machine-readable summary row of one reproduction run.

    paper: the tool name (graft, reb, ...); claim: the paper's headline claim in a sentence;
    paper_number: the paper's value as text; measured: our number (float) and interval its 95%
    interval (low, high) or None when the run has none; verdict: one of VERDICTS; why: one line;
    link: the repository-relative link to the paper's reproduction table (Docs/<paper>.md#anchor);
    quick: whether this was the QUICK run; run: the command that produced it; parts: optional list of
    {claim, verdict, why} for the claim's parts; unit: printed after the number ("%", "×")."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    return dict(paper=paper, claim=claim, paper_number=paper_number, measured=measured,
                interval=list(interval) if interval is not None else None, unit=unit, verdict=verdict, why=why,
                link=link, mode="quick" if quick else "full", run=run, parts=parts or [])


def write_verdict(out: Path, row):
    """Writes row to out/verdict.json (read by summary.py) and returns the path."""
    path = Path(out) / "verdict.json"
    path.write_text(json.dumps(row, indent=1, sort_keys=True) + "\n")
    return path


def finish(out: Path, row, problems=(), wrote=""):
    """The end of a reproduction script: writes verdict.json, appends the verdict (and a table of its
    parts) to out/table.md, prints table.md, then exits 1 listing `problems` (a failed report check)
    or says what was written on stderr."""
    import sys
    write_verdict(out, row)
    with open(Path(out) / "table.md", "a") as f:
        f.write(f"\n## Verdict\n\n**{row['verdict']}**: {row['why']}.\n")
        if row["parts"]:
            f.write("\n" + markdown_table(["claim", "verdict", "why"], [[p["claim"], p["verdict"], p["why"]] for p in row["parts"]]))
    print((Path(out) / "table.md").read_text())
    if problems:
        print("report check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"wrote {out}/table.md, verdict.json{', ' + wrote if wrote else ''}", file=sys.stderr)


# ---------------------------------------------------------------- markdown


def signed(x, digits=1):
    """x with its sign and a typographic minus: +1.5, −1.5."""
    return f"{x:+.{digits}f}".replace("-", "−")


def markdown_table(headers, rows):
    """A GitHub markdown table; cells are converted with str()."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def beside_paper(rows, headers=("paper's claim", "paper", "measured here", "verdict")):
    """The paper's numbers beside ours: rows of (claim, paper's number, ours, verdict or note)."""
    return markdown_table(headers, rows)


# ---------------------------------------------------------------- SVG plots


def nice_ticks(lo, hi, count=5):
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering [lo, hi]."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1) * 0.5, lo - (abs(lo) or 1) * 0.5
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    first = math.floor(lo / step + 1e-9) * step
    ticks, v = [], first
    while v < hi + step * 0.999:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _fmt(v):
    """A tick label: no trailing zeros, scientific only for very large or small magnitudes."""
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:.6g}"


def _esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Frame:
    """Plot area, scales, axes and legend of one SVG figure."""

    def __init__(self, title, x_label, y_label, width, height, legend_width, labels):
        # The legend is as wide as its longest label needs (≈ 6.7 px per character at 12 px) and the
        # figure grows by what the legend takes beyond legend_width, so the plot area keeps its size.
        needed = 40 + 6.7 * max((len(str(label)) for label in labels), default=0)
        width += max(0, int(needed - legend_width))
        legend_width = max(legend_width, int(needed))
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = 68, legend_width + 16, 36, 52
        self.parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                      f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
                      f'<rect width="{width}" height="{height}" fill="white"/>',
                      f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14">{_esc(title)}</text>']
        self.x0, self.x1 = self.left, width - self.right
        self.y0, self.y1 = height - self.bottom, self.top
        cy = (self.top + self.y0) / 2
        self.parts.append(f'<text x="{(self.x0 + self.x1) / 2:.1f}" y="{height - 12}" text-anchor="middle">{_esc(x_label)}</text>')
        self.parts.append(f'<text x="16" y="{cy:.1f}" transform="rotate(-90 16 {cy:.1f})" text-anchor="middle">{_esc(y_label)}</text>')

    def set_y(self, lo, hi, ticks):
        self.ylo, self.yhi = lo, hi
        for t in ticks:
            y = self.py(t)
            self.parts.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x1}" y2="{y:.1f}" stroke="#e5e5e5"/>')
            self.parts.append(f'<line x1="{self.x0 - 4}" y1="{y:.1f}" x2="{self.x0}" y2="{y:.1f}" stroke="black"/>')
            self.parts.append(f'<text x="{self.x0 - 7}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')

    def py(self, v):
        return self.y0 - (self.y0 - self.y1) * (v - self.ylo) / (self.yhi - self.ylo)

    def x_tick(self, x, label):
        self.parts.append(f'<line x1="{x:.1f}" y1="{self.y0}" x2="{x:.1f}" y2="{self.y0 + 4}" stroke="black"/>')
        self.parts.append(f'<text x="{x:.1f}" y="{self.y0 + 17}" text-anchor="middle">{_esc(label)}</text>')

    def axes(self):
        self.parts.append(f'<line x1="{self.x0}" y1="{self.y0}" x2="{self.x1}" y2="{self.y0}" stroke="black"/>')
        self.parts.append(f'<line x1="{self.x0}" y1="{self.y1}" x2="{self.x0}" y2="{self.y0}" stroke="black"/>')

    def legend(self, entries):
        """entries: (label, colour, kind) with kind "line", "dashed" or "bar"."""
        x, y = self.x1 + 14, self.top + 8
        for i, (label, colour, kind) in enumerate(entries):
            yy = y + 18 * i
            if kind == "bar":
                self.parts.append(f'<rect x="{x}" y="{yy - 9}" width="18" height="10" fill="{colour}"/>')
            else:
                dash = ' stroke-dasharray="5 3"' if kind == "dashed" else ""
                self.parts.append(f'<line x1="{x}" y1="{yy - 4}" x2="{x + 18}" y2="{yy - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
            self.parts.append(f'<text x="{x + 24}" y="{yy}">{_esc(label)}</text>')

    def svg(self):
        return "\n".join(self.parts + ["</svg>"]) + "\n"


def line_plot(series, *, title, x_label, y_label, x_log=False, x_ticks=None, y_range=None, references=(),
              width=600, height=360, legend_width=150):
    """An SVG line plot.

    series: dicts with `label`, `points` [(x, y)], optional `errors` [half-width per point, or
    (low, high)] drawn as bars, `colour`, `dashed` (bool; a dashed line without markers).
    x_log: log10 x axis (all x > 0); x_ticks: [(x, label)] or x values (default: the points' distinct
    x values on a log axis, round ticks otherwise); y_range: (low, high), default the data's range
    with 5% margin (reference lines included); references: (y, label) horizontal grey dotted lines
    labelled at the right end of the plot. Returns the SVG text."""
    frame = _Frame(title, x_label, y_label, width, height, legend_width, [s["label"] for s in series])
    xs = [x for s in series for x, _ in s["points"]]
    if not xs:
        raise ValueError("line_plot: no points")

    def bounds(s, i):
        y = s["points"][i][1]
        e = (s.get("errors") or [None] * len(s["points"]))[i]
        if e is None:
            return y, y
        return (y - e, y + e) if not isinstance(e, (tuple, list)) else (e[0], e[1])

    ys = [b for s in series for i in range(len(s["points"])) for b in bounds(s, i)] + [r[0] for r in references]
    if y_range:
        lo, hi = y_range
    else:
        lo, hi = min(ys), max(ys)
        pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1
        lo, hi = lo - pad, hi + pad
    ticks = [t for t in nice_ticks(lo, hi) if lo - 1e-12 <= t <= hi + 1e-12]
    frame.set_y(lo, hi, ticks)

    fx = (lambda x: math.log10(x)) if x_log else (lambda x: x)
    a, b = fx(min(xs)), fx(max(xs))
    if a == b:
        a, b = a - 1, b + 1
    margin = (b - a) * 0.04

    def px(x):
        return frame.x0 + (frame.x1 - frame.x0) * (fx(x) - a + margin) / (b - a + 2 * margin)

    if x_ticks is None:
        x_ticks = sorted(set(xs)) if x_log else [t for t in nice_ticks(min(xs), max(xs)) if min(xs) <= t <= max(xs)]
    for t in x_ticks:
        x, label = t if isinstance(t, (tuple, list)) else (t, _fmt(t))
        frame.x_tick(px(x), label)
    for y, label in references:
        frame.parts.append(f'<line x1="{frame.x0}" y1="{frame.py(y):.1f}" x2="{frame.x1}" y2="{frame.py(y):.1f}" '
                           'stroke="#888" stroke-dasharray="2 3"/>')
        frame.parts.append(f'<text x="{frame.x1 - 3}" y="{frame.py(y) - 4:.1f}" text-anchor="end" fill="#666">{_esc(label)}</text>')
    legend = []
    for i, s in enumerate(series):
        c = s.get("colour") or PALETTE[i % len(PALETTE)]
        pts = sorted(range(len(s["points"])), key=lambda j: s["points"][j][0])
        dash = ' stroke-dasharray="5 3"' if s.get("dashed") else ""
        path = " ".join(f"{px(s['points'][j][0]):.1f},{frame.py(s['points'][j][1]):.1f}" for j in pts)
        frame.parts.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        for j in pts:
            x, y = s["points"][j]
            if s.get("errors"):
                low, high = bounds(s, j)
                frame.parts.append(f'<line x1="{px(x):.1f}" y1="{frame.py(low):.1f}" x2="{px(x):.1f}" y2="{frame.py(high):.1f}" stroke="{c}"/>')
            if not s.get("dashed"):
                frame.parts.append(f'<circle cx="{px(x):.1f}" cy="{frame.py(y):.1f}" r="3.5" fill="{c}"/>')
        legend.append((s["label"], c, "dashed" if s.get("dashed") else "line"))
    frame.axes()
    frame.legend(legend)
    return frame.svg()


def bar_plot(groups, series, *, title, x_label, y_label, y_range=None, width=600, height=360, legend_width=150):
    """An SVG grouped bar plot.

    groups: category labels along x; series: dicts with `label`, `values` (one per group; None leaves
    a gap), optional `colour`. The y axis starts at 0 unless y_range is given; each bar carries its
    value above it. Returns the SVG text."""
    frame = _Frame(title, x_label, y_label, width, height, legend_width, [s["label"] for s in series])
    values = [v for s in series for v in s["values"] if v is not None]
    if not values:
        raise ValueError("bar_plot: no values")
    lo, hi = y_range or (min(0.0, min(values)), max(values) * 1.1 or 1)
    ticks = [t for t in nice_ticks(lo, hi) if lo - 1e-12 <= t <= hi + 1e-12]
    frame.set_y(lo, hi, ticks)
    slot = (frame.x1 - frame.x0) / len(groups)
    bar = slot * 0.8 / len(series)
    legend = []
    for g, label in enumerate(groups):
        frame.x_tick(frame.x0 + slot * (g + 0.5), label)
    for i, s in enumerate(series):
        c = s.get("colour") or PALETTE[i % len(PALETTE)]
        for g, v in enumerate(s["values"]):
            if v is None:
                continue
            x = frame.x0 + slot * g + slot * 0.1 + bar * i
            top, base = frame.py(max(v, lo)), frame.py(max(lo, min(0.0, hi)))
            frame.parts.append(f'<rect x="{x:.1f}" y="{min(top, base):.1f}" width="{bar:.1f}" height="{abs(base - top):.1f}" fill="{c}"/>')
            frame.parts.append(f'<text x="{x + bar / 2:.1f}" y="{min(top, base) - 3:.1f}" text-anchor="middle" font-size="10">{v:.3g}</text>')
        legend.append((s["label"], c, "bar"))
    frame.axes()
    frame.legend(legend)
    return frame.svg()
