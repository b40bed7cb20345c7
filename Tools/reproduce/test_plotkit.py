"""Tests of plotkit and summary (hand-computed values; run by `make reproduce` before the papers):

    python Tools/reproduce/test_plotkit.py
"""

import math
import sys
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plotkit  # noqa: E402
from summary import check_link, github_anchor  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


class Statistics(unittest.TestCase):
    def test_t_interval(self):
        # values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303 → half-width 4.303/√3 = 2.48434
        mean, lo, hi = plotkit.t_interval([1, 2, 3])
        self.assertAlmostEqual(mean, 2.0)
        self.assertAlmostEqual(hi - mean, 4.303 / math.sqrt(3), places=9)
        self.assertAlmostEqual(mean - lo, 4.303 / math.sqrt(3), places=9)
        self.assertEqual(plotkit.t_interval([0.5]), (0.5, 0.5, 0.5))

    def test_auroc_standard_error(self):
        # Hanley & McNeil: A = 0.9, n1 = n2 = 50: Q1 = 0.9/1.1 = 0.818182, Q2 = 1.62/1.9 = 0.852632,
        # SE² = (0.09 + 49·(0.818182 − 0.81) + 49·(0.852632 − 0.81)) / 2500
        #     = (0.09 + 0.400909 + 2.088947) / 2500 = 0.00103194 → SE 0.0321239
        self.assertAlmostEqual(plotkit.auroc_standard_error(0.9, 50, 50), 0.0321239, places=6)
        self.assertEqual(plotkit.auroc_standard_error(1.0, 10, 10), 0.0)

    def test_combine_verdicts(self):
        c = plotkit.combine_verdicts
        self.assertEqual(c(["reproduced", "reproduced"]), "reproduced")
        self.assertEqual(c(["partly", "not comparable"]), "partly")
        self.assertEqual(c(["reproduced", "not comparable"]), "partly")
        self.assertEqual(c(["not reproduced", "not comparable"]), "not reproduced")
        self.assertEqual(c(["not comparable", "not comparable"]), "not comparable")
        with self.assertRaises(ValueError):
            c(["maybe"])

    def test_verdict_row_rejects_unknown_verdict(self):
        with self.assertRaises(ValueError):
            plotkit.verdict_row("p", "c", "1", 1.0, None, "yes", "w", "Docs/x.md", True, "make p")


class Markdown(unittest.TestCase):
    def test_table(self):
        self.assertEqual(plotkit.markdown_table(["a", "b"], [[1, "x|y"]]), "| a | b |\n|---|---|\n| 1 | x\\|y |\n")

    def test_anchor_and_link(self):
        self.assertEqual(github_anchor(" Reproduction (`make reb`)"), "reproduction-make-reb")
        self.assertEqual(github_anchor("Full run (`make pregated-moe`, measured 2026-12-01)"),
                         "full-run-make-pregated-moe-measured-2026-12-01")
        root = Path(__file__).resolve().parents[2]
        self.assertEqual(check_link("Docs/graft.md#reproduction", root), [])
        self.assertEqual(len(check_link("Docs/graft.md#no-such-heading", root)), 1)
        self.assertEqual(len(check_link("Docs/nothing.md#reproduction", root)), 1)


class Plots(unittest.TestCase):
    def test_nice_ticks(self):
        self.assertEqual(plotkit.nice_ticks(0, 1), [0, 0.25, 0.5, 0.75, 1.0])
        # range 0.09 / 4 intervals = 0.0225 → the next round step 2.5·10⁻², from floor(0.93 / 0.025) = 37 steps
        self.assertEqual(plotkit.nice_ticks(0.93, 1.02), [0.925, 0.95, 0.975, 1.0, 1.025])
        self.assertEqual(plotkit.nice_ticks(3, 11), [2, 4, 6, 8, 10, 12])

    def test_line_plot_geometry(self):
        svg = plotkit.line_plot([dict(label="a", points=[(1, 0.0), (3, 1.0)])], title="t", x_label="x", y_label="y",
                                y_range=(0, 1), x_ticks=[1, 2, 3], width=400, height=300, legend_width=100)
        root = ET.fromstring(svg)  # well-formed XML
        line = root.find(f"{SVG}polyline").get("points").split()
        # plot area x 68..(400 − 116) = 284, y 248 (bottom) .. 36 (top); x margin 4% of the range 2 on each side
        x0 = 68 + 216 * (0 + 0.08) / 2.16
        x1 = 68 + 216 * (2 + 0.08) / 2.16
        self.assertEqual(line, [f"{x0:.1f},248.0", f"{x1:.1f},36.0"])
        texts = [t.text for t in root.iter(f"{SVG}text")]
        for needed in ["t", "x", "y", "a", "0", "0.5", "1", "2", "3"]:
            self.assertIn(needed, texts)

    def test_bar_plot(self):
        svg = plotkit.bar_plot(["p", "q"], [dict(label="s", values=[1.0, None]), dict(label="u", values=[2.0, 4.0])],
                               title="t", x_label="x", y_label="y", y_range=(0, 4), width=400, height=300, legend_width=100)
        root = ET.fromstring(svg)
        bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill") != "white" and float(r.get("height")) > 0]
        heights = sorted(round(float(r.get("height")), 1) for r in bars if float(r.get("width")) > 18)
        # plot height 248 − 36 = 212 for 0..4: bars of 1, 2, 4 → 53, 106, 212 px (the legend swatches are 18 wide)
        self.assertEqual(heights, [53.0, 106.0, 212.0])


if __name__ == "__main__":
    unittest.main(verbosity=1)
