"""A client's budget as a chart drawn on the server: inline SVG, planned, contracted and delivered euros
side by side for each month of the plan's period, the monthly budget as a line over them.

No script and no ``style`` attribute (the page's policy): the bars carry classes that ``clients.css``
colours, and differ by pattern as well as colour (outlined, hatched, solid) so the chart reads without
colour. ``role="img"`` with a ``<title>`` and a ``<desc>`` that says the totals; the table under the chart
has every figure.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from service.web.base import _, lang, money

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 16, 64
KINDS = ("planned", "contracted", "delivered")


def nice_step(top: Decimal, ticks: int = 5) -> Decimal:
    """A round step (1, 2, 2,5 or 5 times a power of ten) that divides ``top`` into about ``ticks``.

    >>> nice_step(Decimal("600")), nice_step(Decimal("1840")), nice_step(Decimal("0"))
    (Decimal('200'), Decimal('500'), Decimal('1'))
    """
    if top <= 0:
        return Decimal(1)
    raw = top / ticks
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.01")
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if raw <= power * factor:
            return power * factor
    return power * 10


def month_label(month: str) -> str:
    """``2020-09`` as the page's language writes a month: 09.2020. (Latvian) or 2020-09."""
    return f"{month[5:7]}.{month[:4]}." if lang() == "lv" else month


def labels() -> dict[str, str]:
    return {"planned": _("Planned"), "contracted": _("Contracted"), "delivered": _("Delivered")}


def chart(budget: dict[str, Any], id_: str = "budget-chart") -> Markup:
    """The SVG of ``budget`` (as :func:`service.cases.budget.client_budget` answers); empty without months."""
    months = budget.get("months") or []
    if not months:
        return Markup("")
    names = labels()
    title, x_label, y_label, budget_label = (
        _("Budget by month"),
        _("Month"),
        _("Euros a month"),
        _("Monthly budget"),
    )
    top = max(
        [Decimal(month[kind]) for month in months for kind in KINDS]
        + [Decimal(month["monthly_budget"]) for month in months]
    )
    step = nice_step(top)
    ticks = int(top / step) + (1 if top % step or top == 0 else 0)
    scale_top = step * max(ticks, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: Decimal) -> float:
        return TOP + plot_h - float(value / scale_top) * plot_h

    parts = [
        f'<svg class="chart" id="{id_}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{id_}-title {id_}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{id_}-title">{escape(title)}</title>',
        f'<desc id="{id_}-desc">{escape(description(budget))}</desc>',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect class="chart__hatch-ground" width="6" height="6"/>'
        '<line class="chart__hatch" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>',
    ]
    for index in range(max(ticks, 1) + 1):
        value = step * index
        at = y(value)
        parts.append(
            f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at:.1f}" y2="{at:.1f}"/>'
        )
        parts.append(
            f'<text class="chart__tick" x="{LEFT - 8}" y="{at + 4:.1f}" text-anchor="end">'
            f"{escape(money(value))}</text>"
        )
    slot = plot_w / len(months)
    bar = min(slot * 0.8 / 3, 24)
    for index, month in enumerate(months):
        start = LEFT + index * slot + (slot - 3 * bar) / 2
        for offset, kind in enumerate(KINDS):
            value = Decimal(month[kind])
            height = max(TOP + plot_h - y(value), 0)
            parts.append(
                f'<rect class="chart__bar chart__bar--{kind}" x="{start + offset * bar:.1f}" '
                f'y="{TOP + plot_h - height:.1f}" width="{bar - 1:.1f}" height="{height:.1f}"/>'
            )
        budget_y = y(Decimal(month["monthly_budget"]))
        left, right = LEFT + index * slot + 2, LEFT + (index + 1) * slot - 2
        parts.append(
            f'<line class="chart__budget" x1="{left:.1f}" x2="{right:.1f}" '
            f'y1="{budget_y:.1f}" y2="{budget_y:.1f}"/>'
        )
        shown = month_label(month["month"]) if len(months) <= 12 or index % 2 == 0 else ""
        parts.append(
            f'<text class="chart__tick" x="{LEFT + (index + 0.5) * slot:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{escape(shown)}</text>'
        )
    parts.append(
        f'<line class="chart__axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    parts.append(
        f'<text class="chart__axis-label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 24}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text class="chart__axis-label" x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})">{escape(y_label)}</text>'
    )
    legend_x = LEFT
    for kind in (*KINDS, "budget"):
        label = names.get(kind, budget_label)
        if kind == "budget":
            parts.append(
                f'<line class="chart__budget" x1="{legend_x}" x2="{legend_x + 14}" '
                f'y1="{HEIGHT - 6}" y2="{HEIGHT - 6}"/>'
            )
        else:
            parts.append(
                f'<rect class="chart__bar chart__bar--{kind}" x="{legend_x}" y="{HEIGHT - 13}" '
                'width="14" height="12"/>'
            )
        parts.append(
            f'<text class="chart__legend" x="{legend_x + 20}" y="{HEIGHT - 3}">{escape(label)}</text>'
        )
        legend_x += 20 + 9 * len(label) + 24
    parts.append("</svg>")
    return Markup("".join(parts))


def description(budget: dict[str, Any]) -> str:
    """What the chart shows, in a sentence (the ``<desc>``): the months and the period's totals."""
    months = budget["months"]
    totals = budget.get("totals") or {}
    names = labels()
    sums = "; ".join(f"{names[kind]}: {money(totals.get(kind, 0))}" for kind in KINDS)
    period = f"{month_label(months[0]['month'])}–{month_label(months[-1]['month'])}"
    return _("Euros by month, {period}. In total — {sums}.").format(period=period, sums=sums)
