"""``--html``: one self-contained page for people, with the report's charts and its data.

The charts (calls per second and errors, latency p50/p90/p99/max, charge points connected, over
time) are drawn by matplotlib as SVG and inlined; the per-action table follows; the whole JSON
report is embedded in ``<script type="application/json" id="ocpp16-load-report">`` for
programs. The page loads nothing from anywhere. matplotlib is the optional extra
``ocpp16[report]``: :func:`require` says what to install, before a run starts.
"""

from __future__ import annotations

import html
import importlib.util
import io
import json
from pathlib import Path
from typing import Any, Final

from ocpp16.errors import InputError

__all__ = ["INSTALL_HINT", "render", "require", "write_html"]

INSTALL_HINT: Final = "--html needs matplotlib: pip install 'ocpp16[report]'"
#: Series drawn on the latency chart, and their labels.
_LATENCY: Final = (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("max_ms", "max"))


def require() -> None:
    """Raise InputError (exit code 2) when the charting extra is not installed."""
    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InputError(INSTALL_HINT)


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue and DOCTYPE: inlined in HTML


def _charts(timeline: list[dict[str, Any]]) -> list[tuple[str, str]]:
    import matplotlib

    # Text stays text (smaller, searchable); the same data draws the same page.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ocpp16"}):
        return _draw(timeline)


def _draw(timeline: list[dict[str, Any]]) -> list[tuple[str, str]]:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figures

    t = [row["t"] for row in timeline]

    def chart(ylabel: str) -> tuple[Any, Any]:
        figure = Figure(figsize=(9, 3))
        axes = figure.add_subplot()
        axes.set_xlabel("seconds since the start")
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
        return figure, axes

    calls, axes = chart("per second")
    axes.plot(t, [row["calls_per_s"] for row in timeline], label="calls per second")
    axes.plot(t, [row["errors"] for row in timeline], label="errors", color="tab:red")
    axes.legend(loc="upper left")

    latency, axes = chart("latency (ms)")
    for key, label in _LATENCY:
        axes.plot(t, [row[key] for row in timeline], label=label)
    if any(row["max_ms"] > 0 for row in timeline):
        axes.set_yscale("log")
    axes.legend(loc="upper left")

    connected, axes = chart("charge points")
    axes.step(t, [row["connected"] for row in timeline], where="post", color="tab:green")
    axes.set_ylim(bottom=0)
    return [
        ("Calls per second", _svg(calls)),
        ("Latency percentiles", _svg(latency)),
        ("Connected charge points", _svg(connected)),
    ]


def _table(report: dict[str, Any]) -> str:
    head = "".join(
        f"<th>{name}</th>"
        for name in (
            "action",
            "calls",
            "ok",
            "CALLERRORs",
            "invalid",
            "timeouts",
            "closed",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
        )
    )
    rows = []
    for name, action in report["actions"].items():
        codes = ", ".join(f"{code} {count}" for code, count in action["callerrors"].items())
        latency = action["latency_ms"]
        cells = [
            name,
            action["calls"],
            action["ok"],
            codes or "0",
            action["invalid"] + action["malformed"],
            action["timeouts"],
            action["closed"],
            latency["p50"],
            latency["p90"],
            latency["p99"],
            latency["max"],
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render(report: dict[str, Any]) -> str:
    """The page for ``report`` (a :func:`ocpp16.load.report.build_report` dict)."""
    charts = _charts(report["timeline"])
    points = report["charge_points"]
    calls = report["calls"]
    connections = report["connections"]
    verdict = report["verdict"]
    summary = [
        ("central system", report["url"]),
        ("started", report["started"]),
        ("duration", f"{report['duration_s']} s"),
        (
            "charge points",
            f"{points['started']} of {points['planned']} started, {points['ever_connected']}"
            f" connected, {points['booted']} booted",
        ),
        (
            "calls",
            f"{calls['calls']} ({calls['per_s']} per second), {calls['ok']} valid; latency p50"
            f" {calls['latency_ms']['p50']} ms, p99 {calls['latency_ms']['p99']} ms",
        ),
        (
            "connections",
            f"{connections['opened']} opened of {connections['attempts']} attempts,"
            f" {connections['reconnects']} reconnects; failures {connections['failures'] or 0}",
        ),
        ("verdict", verdict),
    ]
    facts = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in summary
    )
    figures = "".join(
        f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>"
        for title, svg in charts
    )
    # No "<" at all in the script element: "</script" would end it early, and "<!--" then
    # "<script" would keep the parser from ending it at all. "\u003c" is the same JSON data.
    data = json.dumps(report, indent=1).replace("<", "\\u003c")
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in report["problems"])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ocpp16 load report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }}
td {{ font-variant-numeric: tabular-nums; }}
figure {{ margin: 1.5em 0; }}
figcaption {{ font-weight: bold; margin-bottom: 0.3em; }}
svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>ocpp16 load report</h1>
<table>{facts}</table>
{figures}
<h2>Per action</h2>
{_table(report)}
<h2>Problems ({report["problem_count"]} from the central system; examples of failed calls)</h2>
<ul>{problems or "<li>none</li>"}</ul>
<h2>Data</h2>
<p>The whole report, as <code>--json</code> writes it, is in the script element
<code>ocpp16-load-report</code> of this page.</p>
<script type="application/json" id="ocpp16-load-report">
{data}
</script>
</body>
</html>
"""


def write_html(report: dict[str, Any], path: Path) -> None:
    """Write the page to ``path``; OSError when it cannot be written."""
    path.write_text(render(report), encoding="utf-8")
