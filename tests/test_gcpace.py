"""ocpp16._gcpace: survivors are frozen each tick; closed connections' cycles are reclaimed."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from ocpp16 import CentralSystem, HeartbeatRequest
from ocpp16._gcpace import FREEZE_EVERY_OPENED, GcPacer
from ocpp16.client import connect


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_tick_freezes_what_survived_and_stop_thaws_it() -> None:
    pacer = GcPacer()
    pacer.tick(live=0)
    assert gc.get_freeze_count() > 0
    pacer.stop()
    assert gc.get_freeze_count() == 0


def test_cycles_frozen_while_alive_are_reclaimed_once_enough_connections_closed() -> None:
    pacer = GcPacer(floor=3)
    cycles = [_Cycle() for _ in range(100)]
    pacer.tick(live=10)
    cycles.clear()  # garbage now, but frozen: no collection sees it
    assert gc.collect() == 0
    pacer.closed(5)
    pacer.tick(live=10)  # 5 closed, 10 open: not yet worth a full collection
    assert pacer.reclaims == 0
    pacer.closed(5)
    frozen = gc.get_freeze_count()
    pacer.tick(live=10)
    assert pacer.reclaims == 1
    assert pacer.closed_since == 0
    assert gc.get_freeze_count() <= frozen - 100  # the 100 cycles are gone
    pacer.stop()


def test_a_central_system_that_paces_freezes_while_serving_and_thaws_when_closed() -> None:
    async def main() -> tuple[int, int, int]:
        cs = CentralSystem(pace_gc=True)
        assert cs.gc_pacer is not None
        cs.gc_pacer.floor = 2
        async with cs.serve("127.0.0.1", 0) as server:
            for number in range(3):
                url = server.url_for(f"CP{number}")
                await asyncio.to_thread(_boot, url)
            for _ in range(100):  # a tick comes each second; a busy machine may delay it
                if cs.gc_pacer.reclaims:
                    break
                await asyncio.sleep(0.1)
            frozen = gc.get_freeze_count()
            closed = cs.gc_pacer.closed_since + 3 * cs.gc_pacer.reclaims
        return frozen, closed, cs.gc_pacer.reclaims

    frozen, closed, reclaims = asyncio.run(main())
    assert frozen > 0
    assert closed >= 3  # each connection that ended was counted
    assert reclaims >= 1  # 3 closed, none open, floor 2
    assert gc.get_freeze_count() == 0


def _boot(url: str) -> None:
    with connect(url, timeout=5) as charge_point:
        charge_point.call(HeartbeatRequest())


def test_a_wave_of_new_connections_is_frozen_between_ticks() -> None:
    pacer = GcPacer()
    for _ in range(FREEZE_EVERY_OPENED - 1):
        pacer.opened()
    assert gc.get_freeze_count() == 0  # no tick yet, and not yet a wave
    pacer.opened()
    assert gc.get_freeze_count() > 0
    pacer.stop()
