"""Server-side SVG charts: a person's move timeline (Gantt-like) and skill growth over time.

The geometry is computed here and drawn by ``templates/_charts.html`` as inline SVG, so the charts work
offline, need no JavaScript, and every label goes through the template's escaping.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from urllib.parse import quote

from micromoves.services.views import MoveSummary, PersonPage

WIDTH = 720
LABEL_W = 200
ROW_H = 22
PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")


@dataclass
class Bar:
    x: float
    y: float
    w: float
    label: str
    title: str
    status: str
    href: str


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    today_x: float | None = None
    # What the bars' colours mean, for the statuses on the chart: (a status that shows the colour, words).
    legend: list[tuple[str, str]] = field(default_factory=list)


# The bar colours (style.css) by group of statuses, in the order a move goes through them.
LEGEND: tuple[tuple[tuple[str, ...], str], ...] = (
    (("proposed", "requested", "approved"), "planned"),
    (("onboarding", "active"), "running"),
    (("in_review",), "in review"),
    (("completed",), "completed"),
    (("reverted", "declined", "withdrawn"), "reverted, declined or withdrawn"),
)


@dataclass
class Series:
    name: str
    color: str
    points: str  # SVG polyline points
    dots: list[tuple[float, float, str]]


@dataclass
class Growth:
    width: int
    height: int
    series: list[Series] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)


def _scale(lo: dt.date, hi: dt.date, x0: float, x1: float) -> tuple[float, float]:
    span = max(1, (hi - lo).days)
    return x0, (x1 - x0) / span


def _month_ticks(lo: dt.date, hi: dt.date, x: float, per_day: float) -> list[Tick]:
    months = (hi.year - lo.year) * 12 + hi.month - lo.month
    step = max(1, months // 8 + (1 if months % 8 else 0))
    ticks, d = [], dt.date(lo.year, lo.month, 1)
    i = 0
    while d <= hi:
        if d >= lo and i % step == 0:
            ticks.append(Tick(x + (d - lo).days * per_day, d.strftime("%b %Y")))
        i += 1
        d = dt.date(d.year + (d.month // 12), d.month % 12 + 1, 1)
    return ticks


def _words(value: enum.StrEnum) -> str:
    return value.value.replace("_", " ")


def timeline(moves: list[MoveSummary], today: dt.date) -> Timeline | None:
    if not moves:
        return None
    moves = sorted(moves, key=lambda m: (m.start, m.id))[-20:]
    lo = min(m.start for m in moves) - dt.timedelta(days=7)
    hi = max(max(m.end for m in moves), today) + dt.timedelta(days=7)
    x0, per_day = _scale(lo, hi, LABEL_W, WIDTH - 10)
    chart = Timeline(width=WIDTH, height=ROW_H * len(moves) + 30)
    for i, m in enumerate(moves):
        chart.bars.append(
            Bar(
                x=x0 + (m.start - lo).days * per_day,
                y=i * ROW_H + 4,
                w=max(3.0, (m.end - m.start).days * per_day),
                label=m.title if len(m.title) <= 30 else m.title[:29] + "…",
                # in words, as the tables beside it show them (stretch assignment, in review)
                title=f"{m.title} ({_words(m.kind)}, {m.percent_time}%): {m.start} – {m.end}, {_words(m.status)}",
                status=m.status.value,
                href=f"/moves/{quote(m.id, safe='')}",
            )
        )
    chart.ticks = _month_ticks(lo, hi, x0, per_day)
    if lo <= today <= hi:
        chart.today_x = x0 + (today - lo).days * per_day
    shown = {b.status for b in chart.bars}
    chart.legend = [(statuses[0], words) for statuses, words in LEGEND if shown & set(statuses)]
    return chart


def growth(page: PersonPage) -> Growth | None:
    series = [s for s in page.skill_growth if len(s.points) > 1]
    if not series:
        return None
    lo = min(p.on for s in series for p in s.points)
    hi = max(p.on for s in series for p in s.points)
    height, top, bottom = 220, 10, 30
    x0, per_day = _scale(lo, hi, 40, WIDTH - 190)
    plot_h = height - top - bottom

    def y(level: float) -> float:
        return top + plot_h * (1 - level / 7)

    chart = Growth(width=WIDTH, height=height)
    for i, s in enumerate(series):
        pts = [(x0 + (p.on - lo).days * per_day, y(p.level), f"{s.label}: {p.level:g} on {p.on}") for p in s.points]
        chart.series.append(
            Series(
                name=s.label,
                color=PALETTE[i % len(PALETTE)],
                points=" ".join(f"{px:.1f},{py:.1f}" for px, py, _ in pts),
                dots=pts,
            )
        )
    chart.yticks = [(y(v), str(v)) for v in range(0, 8)]
    chart.xticks = _month_ticks(lo, hi, x0, per_day)
    return chart


def person_charts(page: PersonPage, today: dt.date | None = None) -> dict[str, object]:
    today = today or dt.date.today()
    return {"timeline": timeline(page.active_moves + page.other_moves, today), "growth": growth(page)}
