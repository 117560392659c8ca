"""The report's chart: references per month by industry, and the approval and win rates, as a PNG."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from matplotlib import colormaps

# The object API with the Agg canvas: no pyplot, so no global figure registry and no GUI backend.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

if TYPE_CHECKING:
    from bot.reporting.report import Report

WIDTH_PX, HEIGHT_PX, DPI = 1000, 600, 100


def quarter_chart(report: Report) -> bytes:
    """A 1000×600 PNG: stacked bars of references by industry, and approval / win rate lines (0–100%)."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars, lines = figure.subplots(1, 2, width_ratios=(3, 2))
    figure.suptitle(f"Reference program — {report.period.label}", fontsize=15, fontweight="bold")

    months = [month for month, _ in report.by_month]
    positions = list(range(len(months)))
    industries = sorted(
        {industry for _, counts in report.by_month for industry in counts},
        key=lambda industry: (-sum(counts.get(industry, 0) for _, counts in report.by_month), industry),
    )
    palette = colormaps["tab10" if len(industries) <= 10 else "tab20"]
    colors = [palette(i % palette.N) for i in range(len(industries))]
    bottoms = [0] * len(months)
    for industry, color in zip(industries, colors, strict=True):
        heights = [counts.get(industry, 0) for _, counts in report.by_month]
        bars.bar(positions, heights, bottom=bottoms, label=industry, color=color, width=0.6)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    bars.set_title("References per month, by industry", fontsize=12)
    bars.set_xticks(positions, months, fontsize=11)
    bars.set_ylabel("References", fontsize=11)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.set_ylim(0, max([*bottoms, 1]) * 1.1)
    if industries:
        # Below the axes, so a tall bar never hides a label.
        bars.legend(
            fontsize=10,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.08),
            ncols=min(3, len(industries)),
            frameon=False,
        )
    else:
        bars.text(
            0.5, 0.5, "No references yet", transform=bars.transAxes, ha="center", va="center", fontsize=14
        )
        bars.set_xlim(-0.5, len(months) - 0.5 if months else 0.5)

    def percent(value: float | None) -> float:
        return math.nan if value is None else value * 100  # NaN leaves a gap for a month with no data

    rate_months = [month for month, _, _ in report.rates_by_month]
    rate_positions = list(range(len(rate_months)))
    approval = [percent(a) for _, a, _ in report.rates_by_month]
    win = [percent(w) for _, _, w in report.rates_by_month]
    lines.plot(
        rate_positions,
        approval,
        marker="o",
        linewidth=2.5,
        markersize=8,
        label="Approval rate",
        clip_on=False,
    )
    lines.plot(rate_positions, win, marker="s", linewidth=2.5, markersize=8, label="Win rate", clip_on=False)
    lines.axhspan(60, 80, color="tab:blue", alpha=0.08, label="Approval target (60–80%)")
    lines.set_title("Approval and win rates", fontsize=12)
    lines.set_xticks(rate_positions, rate_months, fontsize=11)
    lines.set_xlim(-0.5, len(rate_months) - 0.5 if rate_months else 0.5)
    lines.set_ylim(0, 105)
    lines.yaxis.set_major_formatter(PercentFormatter(100))
    lines.grid(axis="y", alpha=0.3)
    lines.legend(fontsize=10, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=2, frameon=False)
    if all(math.isnan(v) for v in approval + win):
        lines.text(
            0.5, 0.5, "No decisions yet", transform=lines.transAxes, ha="center", va="center", fontsize=14
        )

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    figure.clear()  # a Figure outside pyplot is freed with its last reference; clear drops the artists now
    return buffer.getvalue()
