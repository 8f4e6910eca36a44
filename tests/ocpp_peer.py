"""The `ocpp` package's v16 ChargePoint as an independent peer of our central system.

It validates every frame it sends and receives against its own copy of the official schemas, so a
response it accepts is a response the reference implementation accepts. It answers every CS→CP
CALL with a random valid response (made by our generator, checked by its validator).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import ChargePoint, call, call_result

from ocpp16 import ACTIONS

__all__ = ["CP_ACTIONS", "CS_ACTIONS", "RandomChargePoint", "ocpp_call"]

#: Actions a charge point sends (DataTransfer included), and those a central system sends.
CP_ACTIONS = sorted(a.name for a in ACTIONS.values() if a.sender.charge_point_sends)
CS_ACTIONS = sorted(a.name for a in ACTIONS.values() if a.sender.central_system_sends)


def ocpp_call(action: str, payload: dict[str, Any]) -> Any:
    """Our wire payload as the `ocpp` package's request dataclass."""
    return getattr(call, action)(**camel_to_snake_case(payload))


class RandomChargePoint(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
    """Answers every CS→CP action with a random valid response; records what it was asked."""

    def __init__(self, identity: str, connection: Any, seed: int = 0) -> None:
        super().__init__(identity, connection, response_timeout=10)
        self.rng = random.Random(seed)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answered: list[tuple[str, dict[str, Any]]] = []
        for name in CS_ACTIONS:
            self.route_map[name] = {"_on_action": self._answerer(name)}

    def _answerer(self, name: str) -> Any:
        def answer(**request: Any) -> Any:
            self.received.append((name, request))
            payload = ACTIONS[name].response.random(full=True, rng=self.rng).to_dict()
            self.answered.append((name, payload))
            return getattr(call_result, name)(**camel_to_snake_case(payload))

        return answer

    async def wait_received(self, count: int, seconds: float = 10.0) -> None:
        """Until ``count`` CALLs have been answered (bounded)."""
        async with asyncio.timeout(seconds):
            while len(self.received) < count:
                await asyncio.sleep(0.01)
