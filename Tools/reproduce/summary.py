"""Collect the reproductions' summary rows into results/SUMMARY.md (run by `make reproduce`).

    python Tools/reproduce/summary.py graft reb pregated-moe            # the QUICK rows
    python Tools/reproduce/summary.py --mode full graft reb pregated-moe

Reads results/<paper>/<mode>/verdict.json (written by Tools/reproduce/<paper>.py through plotkit's
verdict_row), writes one table row per paper — the headline claim, the paper's number, ours with its
95% interval, the verdict and why, and a link to the paper's reproduction table in Docs/ — and prints
the summary's path. Exits non-zero when a row is missing, has an unknown verdict or links to a heading
that Docs/<paper>.md does not have. Standard library only.
"""

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

from plotkit import VERDICTS, markdown_table


def github_anchor(heading):
    """The anchor GitHub gives a markdown heading: lower case, punctuation other than '-' and '_'
    dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def check_link(link, root: Path):
    """Problems with a `Docs/<page>.md#anchor` link: the page must exist and have that heading."""
    page, _, anchor = link.partition("#")
    path = root / page
    if not path.exists():
        return [f"{link}: no {page}"]
    anchors = {github_anchor(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}
    return [] if not anchor or anchor in anchors else [f"{link}: {page} has no heading with anchor #{anchor}"]


def measured_text(row):
    if row["measured"] is None:
        return "–"
    unit = row.get("unit", "")
    value = f"{row['measured']:.3g}{unit}"
    if row["interval"]:
        value += f" (95% {row['interval'][0]:.3g}–{row['interval'][1]:.3g}{unit})"
    return value


def summary(rows, mode, command, link_prefix):
    """The markdown of results/SUMMARY.md (link_prefix: the path from the summary's folder to the
    repository root, e.g. "../")."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Reproduction summary ({mode.upper() if mode == 'quick' else mode} runs)", "",
             f"`{command}`, {date}. One row per paper: its headline claim, our number (95% interval where the run has one), "
             "the verdict from the run's own numbers (reproduced / partly / not reproduced / not comparable) and why; "
             "the link goes to the paper's reproduction tables."
             + (" QUICK runs are small smoke-size runs: read their verdicts as what that run supports, the full runs "
                "(`make reproduce FULL=1`) as the reference." if mode == "quick" else ""), ""]
    table = [[row["paper"] + (" (QUICK)" if row["mode"] == "quick" else ""), row["claim"], row["paper_number"],
              measured_text(row), f"**{row['verdict']}**", row["why"], f"[table]({link_prefix}{row['link']})"] for row in rows]
    lines.append(markdown_table(["paper", "headline claim", "paper", "measured here", "verdict", "why", "details"], table))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("papers", nargs="+", help="the Makefile's PAPERS")
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    parser.add_argument("--results", default="results", help="the results folder")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    rows, problems = [], []
    for paper in args.papers:
        path = Path(args.results) / paper / args.mode / "verdict.json"
        if not path.exists():
            problems.append(f"{path}: missing (run `make {paper}{' QUICK=1' if args.mode == 'quick' else ''}`)")
            continue
        row = json.loads(path.read_text())
        if row.get("verdict") not in VERDICTS:
            problems.append(f"{path}: verdict {row.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
        problems += check_link(row["link"], root)
        rows.append(row)
    if problems:
        print("summary: " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    command = "make reproduce" + (" FULL=1" if args.mode == "full" else "")
    out = Path(args.results) / "SUMMARY.md"
    out.write_text(summary(rows, args.mode, command, "../"))
    print(out.read_text())
    print(f"summary: {out.resolve()}")


if __name__ == "__main__":
    main()
