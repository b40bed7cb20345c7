"""What the reproduction scripts share: running a tool once per report (standard-library Python)."""

import json
import subprocess
import sys
from pathlib import Path


def run_report(tool: Path, args, output: Path):
    """Runs `tool args --output output --quiet` and returns the JSON report; an existing report is
    reused, so an interrupted sweep resumes where it stopped."""
    if output.exists():
        return json.loads(output.read_text())
    command = [str(tool)] + [str(a) for a in args] + ["--output", str(output), "--quiet"]
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    return json.loads(output.read_text())
