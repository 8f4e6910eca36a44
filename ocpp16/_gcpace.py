"""Short garbage-collector pauses in a process that holds thousands of long-lived connections.

CPython's cyclic collector scans every object of the generations it collects. A central system
or a load fleet with 10,000 connections holds over a million of them, nearly all long-lived, so
a full collection stalls the event loop for about a second; one comes each time the heap grows
by a quarter (bench.load counted 22 during a ramp to 10,000, the last ones 0.9 to 1.2 s each)
and finds nothing, while every call waiting meanwhile takes that second longer.

:class:`GcPacer` freezes what has survived so far (:func:`gc.freeze`, which costs nothing) once
a second, so that collections only ever scan what is newer. Frozen objects are still freed by
reference counting; only cyclic garbage among them waits, and a closed connection leaves some
(about 90 objects, most of it websockets' and asyncio's). That is reclaimed by one full
collection once as many connections have closed since the last one as are open now (and at
least ``floor``): the leftovers never outgrow the live connections, and the pause that reclaims
them is paid once per that many closes, not once per quarter of growth.

The freeze is process-wide: a pacer belongs to a process that runs mostly its connections
(``ocpp16 serve``, ``ocpp16 load``), not to a library call inside someone else's program.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["FREEZE_EVERY_OPENED", "RECLAIM_FLOOR", "GcPacer"]

#: Fewest connections closed since the last full collection that make the next one worth it.
RECLAIM_FLOOR: Final = 1000
#: Connections opened between freezes besides the ticks: a wave of reconnections (a storm of
#: 10,000) keeps the event loop so busy that a tick comes late, while each connection adds
#: about a hundred objects for the collector to scan.
FREEZE_EVERY_OPENED: Final = 256


class GcPacer:
    """Call :meth:`tick` about once a second with the connections open now, :meth:`opened` and
    :meth:`closed` for each connection that starts and ends, and :meth:`stop` at the end (which
    unfreezes everything)."""

    def __init__(self, floor: int = RECLAIM_FLOOR) -> None:
        self.floor = floor
        self.closed_since = 0
        self._opened = 0
        #: Full collections run so far (each scans the whole heap once).
        self.reclaims = 0

    def tick(self, live: int) -> None:
        if self.closed_since >= max(self.floor, live):
            self.reclaim()
        gc.freeze()

    def opened(self) -> None:
        self._opened += 1
        if self._opened % FREEZE_EVERY_OPENED == 0:
            gc.freeze()

    def closed(self, count: int = 1) -> None:
        self.closed_since += count

    def reclaim(self) -> None:
        """Collect everything once, the frozen objects included, then freeze the survivors."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.closed_since = 0
        self.reclaims += 1

    def stop(self) -> None:
        gc.unfreeze()
