"""The fleet through its Python API, with ocpp16's CentralSystem in the same event loop."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ocpp16 import CentralSystem
from ocpp16._events import Exchange
from ocpp16.load import Fleet, LoadConfig, build_report

TRANSACTIONAL = ("StartTransaction", "StopTransaction", "MeterValues")


async def with_server(exchanges: list[Exchange], body: Callable[[str], Awaitable[Any]]) -> Any:
    central = CentralSystem(on_exchange=exchanges.append)
    async with central.serve("127.0.0.1", 0) as server:
        return await body(f"ws://127.0.0.1:{server.port}/ocpp")


def test_heartbeat_is_kept_over_the_boot_interval() -> None:
    exchanges: list[Exchange] = []

    async def body(url: str) -> Fleet:
        # 2 s at 600x: 1,200 simulated seconds; the server's boot answer says 300 s.
        fleet = Fleet(LoadConfig(url, 5, ramp=50, duration=2, heartbeat=60, speed=600))
        await fleet.run()
        return fleet

    fleet = asyncio.run(with_server(exchanges, body))
    beats = Counter(e.identity for e in exchanges if e.action == "Heartbeat")
    assert set(beats) == {f"CP{n:05d}" for n in range(1, 6)}
    assert min(beats.values()) >= 12, beats  # about 20 each; 4 at the boot's interval
    assert build_report(fleet)["ok"]


def test_blackout_queues_transaction_messages_then_delivers_them() -> None:
    exchanges: list[Exchange] = []
    seen: dict[str, Any] = {}

    async def body(url: str) -> Fleet:
        config = LoadConfig(
            url, 30, ramp=300, duration=5, sessions=True, seed=4, speed=300,
            meter_interval=30, blackout=1.5, blackout_at=1.5,
        )  # fmt: skip
        fleet = Fleet(config)
        run = asyncio.create_task(fleet.run())
        await asyncio.sleep(2.5)  # in the middle of the blackout
        seen["queued"] = sum(point.station.queued for point in fleet.points)
        seen["connected"] = fleet.connected()
        await asyncio.sleep(0.6)  # the network is back
        seen["back"] = datetime.now(UTC)
        await run
        return fleet

    fleet = asyncio.run(with_server(exchanges, body))
    assert seen["connected"] == 0 and seen["queued"] > 0
    delivered = [e for e in exchanges if e.action in TRANSACTIONAL and e.time >= seen["back"]]
    assert len(delivered) >= seen["queued"]
    report = build_report(fleet)
    assert report["ok"], report["problems"]
    assert report["connections"]["failures"]["network down (simulated)"] > 0


def test_stop_ends_the_run_and_marks_the_report_incomplete() -> None:
    exchanges: list[Exchange] = []

    async def body(url: str) -> tuple[Fleet, float]:
        fleet = Fleet(LoadConfig(url, 10, ramp=100, duration=60))
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, fleet.stop)
        began = loop.time()
        await fleet.run()
        return fleet, loop.time() - began

    fleet, took = asyncio.run(with_server(exchanges, body))
    report = build_report(fleet)
    assert took < 30 and fleet.interrupted
    assert not report["complete"] and not report["ok"]
    assert report["verdict"] == "NOT OK: interrupted before the end"
    assert report["charge_points"]["booted"] == 10
    assert report["connections"]["ended"] == {"end": 10}


def test_a_central_system_refusing_heartbeats_gets_a_verdict_that_says_so() -> None:
    from ocpp16 import CallError, HeartbeatRequest

    central = CentralSystem()

    @central.on(HeartbeatRequest)
    def refuse(request: HeartbeatRequest, session: Any) -> Any:
        raise CallError("NotSupported", "no heartbeats here <!--<script>")

    async def body() -> Fleet:
        async with central.serve("127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.port}/ocpp"
            config = LoadConfig(url, 3, ramp=50, duration=3, heartbeat=1)
            fleet = Fleet(config, pace_gc=False)
            await fleet.run()
            return fleet

    fleet = asyncio.run(body())
    report = build_report(fleet)
    heartbeats = report["actions"]["Heartbeat"]["calls"]
    calls = report["calls"]["calls"]
    assert not report["ok"] and heartbeats > 0
    assert report["verdict"] == f"NOT OK: {heartbeats:,} of {calls:,} calls not answered validly"
    # The page's data element: "<!--<script" in it would keep the HTML parser from ever ending
    # the element (script data double-escaped state), swallowing the rest of the page.
    from ocpp16.load.html import render

    page = render(report)
    assert any("<!--<script>" in problem for problem in report["problems"])
    data = page.split('id="ocpp16-load-report">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data
    assert json.loads(data) == report
    assert "&lt;!--&lt;script&gt;" in page  # the problems list shows it, escaped


def test_a_central_system_that_goes_away_mid_run_is_not_ok() -> None:
    """It answered every call it got, between calls: the connections it dropped tell."""

    async def body() -> Fleet:
        async with CentralSystem().serve("127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.port}/ocpp"
            config = LoadConfig(url, 3, ramp=50, duration=3, heartbeat=300, speed=10)
            fleet = Fleet(config, pace_gc=False)
            running = asyncio.create_task(fleet.run())
            for _ in range(100):  # until all three have booted (bounded)
                if len(fleet.booted) == 3:
                    break
                await asyncio.sleep(0.05)
        # The server is gone: its connections closed, new ones refused.
        await running
        return fleet

    report = build_report(asyncio.run(body()))
    assert report["calls"]["calls"] == report["calls"]["ok"] > 0  # every call was answered
    assert not report["ok"]
    assert "3 connections lost (closed by the central system or the network)" in report["verdict"]
    assert "connection attempts failed (refused " in report["verdict"]
