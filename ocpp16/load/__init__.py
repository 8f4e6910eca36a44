"""``ocpp16 load`` for Python: thousands of simulated charge points in one process.

::

    import asyncio
    from ocpp16.load import Fleet, LoadConfig, build_report

    config = LoadConfig("ws://localhost:9000/ocpp", cps=1000, ramp=200, duration=60,
                        sessions=True, heartbeat=60, meter_interval=30, speed=10)
    fleet = Fleet(config)
    asyncio.run(fleet.run())          # ConnectError when no charge point could connect at all
    report = build_report(fleet)      # the dict --json writes
    print(report["ok"], report["calls"]["per_s"], report["actions"]["Heartbeat"]["latency_ms"])

- :mod:`~ocpp16.load.fleet`: :class:`LoadConfig` and :class:`Fleet` (ramp, duration, patterns);
- :mod:`~ocpp16.load.stats`: per-action and connection statistics, the timeline;
- :mod:`~ocpp16.load.histogram`: fixed-memory latency histograms (HdrHistogram-style);
- :mod:`~ocpp16.load.report`: the JSON report; :mod:`~ocpp16.load.html`: the HTML page
  (matplotlib, the ``ocpp16[report]`` extra, imported only when a page is written).
"""

from ocpp16.load.fleet import MAX_CHARGE_POINTS, Fleet, LoadConfig
from ocpp16.load.histogram import Histogram
from ocpp16.load.report import build_report, write_json
from ocpp16.load.stats import Statistics

__all__ = [
    "MAX_CHARGE_POINTS",
    "Fleet",
    "Histogram",
    "LoadConfig",
    "Statistics",
    "build_report",
    "write_json",
]
