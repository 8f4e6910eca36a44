"""Minimizing findings after a run: the fewest frames and the smallest payload that still do it.

For each crash, hang, stall and drop, :class:`Reducer` replays the recorded frames of every
connection involved (:func:`ocpp16.fuzz.replay.observe`), first with each of the case's stacked
mutations alone (the one that still triggers names the finding), then delta debugging over the
frames (:func:`ocpp16.fuzz.minimize.ddmin`), then shrinking each payload left
(:func:`ocpp16.fuzz.minimize.shrink_frame`); a target started with ``--restart-cmd`` is
restarted after every try that crashed or hung it. At the end, the finding is named after the
case whose frame is left (its unique id says which), and findings that turned out to be one
are merged.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, Final

from ocpp16.conformance.cases import apply_mutation
from ocpp16.errors import ConnectError
from ocpp16.frames import CALL
from ocpp16.fuzz.cases import Case, make_case
from ocpp16.fuzz.minimize import Budget, ddmin, shrink_frame
from ocpp16.fuzz.mutators import encode
from ocpp16.fuzz.oracles import MINIMIZED, Finding, Recorded, invalid_paths
from ocpp16.fuzz.replay import observe
from ocpp16.fuzz.target import Target
from ocpp16.fuzz.wire import Where

__all__ = ["MINIMIZE_SECONDS", "VALID_KIND", "Reducer", "attribute"]

#: Seconds the minimization of all findings may take after the run.
MINIMIZE_SECONDS: Final = 60.0
#: The kind in the signature of a finding made by a payload that is valid after all.
VALID_KIND: Final = "valid payload"
#: A frame to replay: (connection number, seconds since that connection opened, frame).
Item = tuple[int, float, str | bytes]
Signature = tuple[str, str, str, str]


class Reducer:
    """Minimizes findings against ``where`` (and its ``--restart-cmd`` ``target``); ``seed``
    and ``actions`` rebuild the cases that findings name."""

    def __init__(
        self,
        where: Where,
        timeout: float,
        target: Target | None,
        seed: int,
        actions: tuple[str, ...],
    ) -> None:
        self.where = where
        self.timeout = timeout
        self.target = target
        self.seed = seed
        self.actions = actions

    async def minimize_all(
        self, findings: dict[Signature, Finding], target_down: bool
    ) -> dict[Signature, Finding]:
        """Minimize what can be, within MINIMIZE_SECONDS; the findings again, merged where
        minimizing showed two to be one. ``target_down``: the run ended with the target down
        (and no --restart-cmd to bring it back)."""
        deadline = time.monotonic() + MINIMIZE_SECONDS
        if self.target is not None and not self.target.running:
            try:
                await self.target.restart()
            except ConnectError:
                return findings
        elif self.target is None and target_down:
            return findings
        for finding in list(findings.values()):
            if time.monotonic() >= deadline:
                break
            if finding.oracle not in MINIMIZED or finding.concurrent:
                continue
            if finding.oracle in ("crash", "hang") and self.target is None:
                continue  # each try would take the target down for good
            await self._minimize(finding, deadline)
        # Attribution may have shown two findings to be one.
        merged: dict[Signature, Finding] = {}
        for finding in findings.values():
            known = merged.get(finding.signature)
            if known is None:
                merged[finding.signature] = finding
            else:
                known.count += finding.count
        return merged

    async def _minimize(self, finding: Finding, deadline: float) -> None:
        identities = [c.identity for c in finding.connections]
        # (connection, seconds since it opened, frame): the frames sent, in order.
        items: list[Item] = [
            (index, at, data)
            for index, connection in enumerate(finding.connections)
            for at, direction, data in connection.frames
            if direction == "out"
        ]
        finding.original_frames = len(items)
        budget = Budget()

        async def test(subset: list[Item]) -> bool:
            if time.monotonic() >= deadline:
                return False
            plan = [
                (identity, [data for i, _, data in subset if i == index])
                for index, identity in enumerate(identities)
            ]
            plan = [(identity, frames) for identity, frames in plan if frames]
            if not plan:
                return False
            try:
                seen = await observe(self.where, plan, self.timeout, self.target)
            except ConnectError:
                seen = None
            if self.target is not None and (seen is None or seen.oracle in ("crash", "hang")):
                await self.target.restart()
            return seen is not None and seen.oracle == finding.oracle

        if not await test(items):
            finding.observed += " (it did not happen again when replayed to minimize it)"
            return
        items = await self._attribute(finding, items, test)
        items = await ddmin(items, test, budget)
        for position in reversed(range(len(items))):
            index, at, data = items[position]

            async def one(text: str | bytes, position: int = position) -> bool:
                index, at, _ = items[position]
                return await test([*items[:position], (index, at, text), *items[position + 1 :]])

            items[position] = (index, at, await shrink_frame(data, one, budget))
        finding.connections = tuple(
            Recorded(identity, tuple((at, "out", data) for i, at, data in items if i == index))
            for index, identity in enumerate(identities)
            if any(item[0] == index for item in items)
        )
        finding.minimized = True
        if items:
            self._reattribute(finding, items[-1][2])

    def _reattribute(self, finding: Finding, last: str | bytes) -> None:
        """Name the finding after the case whose frame is the last one left: with several
        connections, the frame that does it may come from another case than the one that saw
        it (its unique id says which)."""
        sent = _case_of(last)
        if sent is None:
            return
        index, payload = sent
        case = make_case(self.seed, index, self.actions)
        if case.family != "payload":
            return
        if not invalid_paths(case.action, case.payload):
            kind, path = VALID_KIND, ""
        else:  # the last of its mutations (it overwrote the others at its place) whose place
            # the minimized payload still has
            kept = [m for m in case.mutations if _holds(payload, m.path)]
            kind, path = (kept[-1].kind, kept[-1].path) if kept else (case.kind, case.path)
        finding.case, finding.title, finding.action = index, case.title, case.action
        finding.kind, finding.path = kind, path

    async def _attribute(
        self,
        finding: Finding,
        items: list[Item],
        test: Callable[[list[Item]], Any],
    ) -> list[Item]:
        """For a case of stacked mutations: the one mutation that alone still triggers the
        finding becomes its kind and path, and its frame replaces the case's."""
        if finding.case < 0 or finding.kind == VALID_KIND:
            return items
        case = make_case(self.seed, finding.case, self.actions)
        if len(case.mutations) < 2 or case.decisive is None:
            return items
        sent = case.steps[0].data
        where = [i for i, (_, _, data) in enumerate(items) if data == sent]
        if not where:
            return items
        for mutation in case.mutations:
            alone = mutation.alone()
            payload = None if alone is None else apply_mutation(alone, case.base)
            if payload is None:
                continue
            text = encode([CALL, case.decisive, case.action, payload])
            trial = list(items)
            index, at, _ = items[where[-1]]
            trial[where[-1]] = (index, at, text)
            if await test(trial):
                finding.kind, finding.path = mutation.kind, mutation.path
                return trial
        return items


def attribute(case: Case, bad_path: str) -> tuple[str, str]:
    """The kind of the mutation that made ``bad_path`` invalid, and that path."""
    for mutation in case.mutations:
        if bad_path == mutation.path or bad_path.startswith(mutation.path + "."):
            return mutation.kind, bad_path
        if bad_path.startswith(mutation.path + "["):
            return mutation.kind, bad_path
    return case.kind, bad_path


_CASE_ID: Final = re.compile(r"([0-9a-f]+)-[0-9a-f]{12}$")


def _holds(payload: Any, path: str) -> bool:
    node = payload
    for part in path[2:].replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return False
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def _case_of(frame: str | bytes) -> tuple[int, Any] | None:
    """(case number, payload) of a CALL the cases made, from its unique id."""
    try:
        parsed = json.loads(frame)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    if not (isinstance(parsed, list) and len(parsed) == 4 and isinstance(parsed[1], str)):
        return None
    match = _CASE_ID.match(parsed[1])
    return None if match is None else (int(match.group(1), 16), parsed[3])
