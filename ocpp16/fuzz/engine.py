"""The fuzzing run: K connections in parallel, each booted, sending cases until the budget ends.

:func:`run_fuzz` starts the ``--restart-cmd`` target (if any), checks the target can be reached
(ConnectError otherwise), runs the security probes, then K workers, each on a connection of its
own (``PREFIX-0`` ... ``PREFIX-K-1``), take case numbers in turn until ``cases`` have been sent or
``duration`` seconds have passed. Case ``n`` of a seed is always the same case
(:func:`ocpp16.fuzz.cases.make_case`), so a finding names its seed and case number.

After each case the oracles (:mod:`ocpp16.fuzz.oracles`) judge what came back. A lost
connection is a drop, or a crash when the target then refuses connections (or its process
exited): with ``--restart-cmd`` the target is restarted and the run carries on, without it the
run ends (a hung target likewise). Findings are deduplicated by signature; at the end, crashes,
hangs, stalls and drops are minimized (:mod:`ocpp16.fuzz.reduce`) and every finding is saved as
a reproducer file.
Ctrl-C raises :class:`FuzzInterrupted` with the report so far; the target is stopped in every
case.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from pathlib import Path
from typing import Final

import attrs

from ocpp16.errors import ConnectError, HandshakeError
from ocpp16.frames import CALLRESULT
from ocpp16.fuzz.cases import OTHER_TX, OWN_TX, STORM_SIZE, Case, cp_actions, make_case
from ocpp16.fuzz.oracles import Finding, SlowTracker, answer_problem, invalid_paths
from ocpp16.fuzz.probe import boot, boot_frame, heartbeat, target_state
from ocpp16.fuzz.reduce import VALID_KIND, Reducer, attribute
from ocpp16.fuzz.replay import BIG_FRAME, observe
from ocpp16.fuzz.reproducer import file_name, save
from ocpp16.fuzz.run import FuzzInterrupted, FuzzOptions, FuzzReport, Live, where_of
from ocpp16.fuzz.security import PROBES, RECORD_BYTES, record, run_probe
from ocpp16.fuzz.target import Target
from ocpp16.fuzz.wire import UNREADABLE_ID, Link, Reply, open_link

__all__ = [
    "MAX_FINDINGS",
    "FuzzInterrupted",
    "FuzzOptions",
    "FuzzReport",
    "Live",
    "run_fuzz",
    "where_of",
]

#: Distinct findings kept (each holds at most a few RECORD_BYTES of frames); more are
#: counted, not stored.
MAX_FINDINGS: Final = 100
#: Unexpected errors of the fuzzer itself kept for the report.
MAX_INTERNAL_ERRORS: Final = 10
#: Attempts to open and boot a worker's connection before the target counts as down.
_CONNECT_TRIES: Final = 3
_TOO_BIG: Final = 1009
#: Seconds a suspect's replay waits for each answer while a crash is being attributed: a
#: suspect that crashes the target does so at once, and the others answer quickly.
_CONFIRM_TIMEOUT: Final = 2.0


@attrs.define
class _InFlight:
    """A worker's case in progress: the connection it runs on and the frames sent so far."""

    case: Case
    link: Link
    sent: list[str | bytes] = attrs.field(factory=list)
    last_sent: float = 0.0


def run_fuzz(options: FuzzOptions, live: Live | None = None) -> FuzzReport:
    """Fuzz the central system at ``options.url``. ConnectError when it cannot be reached at
    all; FuzzInterrupted on Ctrl-C."""
    fuzzer = Fuzzer(options, live or Live())
    try:
        return asyncio.run(fuzzer.run())
    except KeyboardInterrupt:
        raise FuzzInterrupted(fuzzer.report(interrupted=True)) from None
    finally:
        if fuzzer.target is not None:
            fuzzer.target.stop()


class Fuzzer:
    def __init__(self, options: FuzzOptions, live: Live) -> None:
        self.options = options
        self.live = live
        self.where, self.prefix = where_of(
            options.url,
            options.identity,
            options.password,
            ca=options.ca,
            cert=options.cert,
            key=options.key,
            insecure=options.insecure,
        )
        self.actions = cp_actions(options.actions)
        self.target: Target | None = None
        if options.restart_cmd:
            host, port = self.where.host_port
            self.target = Target(options.restart_cmd, host, port)
        self.findings: dict[tuple[str, str, str, str], Finding] = {}
        self.probes: list[tuple[str, str]] = []
        self.internal_errors: list[str] = []
        self.slow = SlowTracker()
        self.other_tx: deque[tuple[str, int]] = deque(maxlen=64)
        self.links: dict[int, Link] = {}
        #: Each worker's case in progress: the suspects when the target crashes.
        self.in_flight: dict[int, _InFlight] = {}
        self._go: asyncio.Event | None = None  # cleared while a crash is being attributed
        self.generation = 0  # restarts of the target so far
        self._lock: asyncio.Lock | None = None  # made in run(), inside the event loop
        self.next_index = 0
        self.stopped = ""
        self.deadline = float("inf")
        self.started = time.monotonic()

    # The run -----------------------------------------------------------------------------------

    async def run(self) -> FuzzReport:
        self._lock = asyncio.Lock()
        self._go = asyncio.Event()
        self._go.set()
        o = self.options
        if self.target is not None:
            self.live.phase = "starting the target"
            await self.target.start()
        self.live.phase = "connecting"
        first = await open_link(self.where, f"{self.prefix}-0", o.timeout)  # ConnectError: exit 3
        await first.close()
        self.started = time.monotonic()
        self.live.started = self.started
        if o.duration is not None:
            self.deadline = self.started + o.duration
        self.live.phase = "security probes"
        await self._probes()
        self.live.phase = "fuzzing"
        workers = [asyncio.create_task(self._worker(w)) for w in range(o.connections)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        elapsed = time.monotonic() - self.started
        if o.minimize:
            self.live.phase = "minimizing"
            reducer = Reducer(self.where, o.timeout, self.target, o.seed, self.actions)
            self.findings = await reducer.minimize_all(self.findings, bool(self.stopped))
        if o.out is not None:
            self._save_all(o.out)
        self.live.phase = "done"
        return self.report(elapsed=elapsed)

    def report(self, interrupted: bool = False, elapsed: float | None = None) -> FuzzReport:
        if interrupted and self.options.out is not None:
            with contextlib.suppress(OSError):
                self._save_all(self.options.out)
        return FuzzReport(
            url=self.where.base,
            seed=self.options.seed,
            cases=self.live.cases,
            calls=self.live.calls,
            elapsed_s=time.monotonic() - self.started if elapsed is None else elapsed,
            findings=tuple(self.findings.values()),
            probes=tuple(self.probes),
            restarts=self.target.restarts if self.target is not None else 0,
            stopped=self.stopped,
            interrupted=interrupted,
            internal_errors=tuple(self.internal_errors),
        )

    def _take(self) -> int | None:
        o = self.options
        if self.stopped or time.monotonic() >= self.deadline:
            return None
        if o.cases is not None and self.next_index >= o.cases:
            return None
        index = self.next_index
        self.next_index += 1
        return index

    async def _probes(self) -> None:
        for name in PROBES:
            if self.stopped or time.monotonic() >= self.deadline:
                return
            identity = f"{self.prefix}-probe"
            try:
                result = await run_probe(name, self.where, identity, self.options.timeout)
            except ConnectError as exc:
                self.probes.append((name, f"could not run: {exc}"))
                continue
            if result is None:
                continue
            self.probes.append((name, result.observed))
            if result.found:
                self._add(
                    Finding(
                        "security",
                        "",
                        name,
                        "",
                        result.observed,
                        self.options.seed,
                        -1,
                        f"security probe: {name}",
                        result.connections,
                        probe=name,
                    )
                )

    # Workers ------------------------------------------------------------------------------------

    async def _worker(self, number: int) -> None:
        identity = f"{self.prefix}-{number}"
        rng = random.Random(self.options.seed * 7919 + number)
        link: Link | None = None
        assert self._go is not None
        try:
            while True:
                await self._go.wait()  # no new case while a crash's culprit is being replayed
                index = self._take()
                if index is None:
                    break
                if link is None or link.closed:
                    link = await self._booted(identity, rng)
                    if link is None:
                        return
                    self.links[number] = link
                    self.live.connections = len(self.links)
                case = make_case(self.options.seed, index, self.actions)
                try:
                    link = await self._run_case(number, link, case, rng)
                except Exception as exc:  # a defect of ours: noted, the run goes on
                    if len(self.internal_errors) < MAX_INTERNAL_ERRORS:
                        self.internal_errors.append(f"case {index}: {exc!r}"[:300])
                    await link.close()
                    link = None
                finally:
                    self.in_flight.pop(number, None)
                self.live.cases += 1
        finally:
            self.links.pop(number, None)
            if link is not None:
                await link.close()

    async def _booted(self, identity: str, rng: random.Random) -> Link | None:
        """A new connection, booted; None when the run is over (the target is gone)."""
        assert self._go is not None
        tries = 0
        while tries < _CONNECT_TRIES:
            await self._go.wait()  # not while a culprit is being replayed
            if self.stopped or time.monotonic() >= self.deadline:
                return None
            generation = self.generation
            try:
                link = await open_link(self.where, identity, self.options.timeout)
            except ConnectError:
                await self._lost_target(generation, None)
                tries += self.generation == generation  # restarted meanwhile: try afresh
                continue
            link.generation = generation
            reply = await boot(link, rng, self.options.timeout)
            self.live.calls += 1
            if reply.status == "answer":
                return link
            await link.close()
            await self._lost_target(generation, None)
            tries += self.generation == generation
        if not self.stopped:
            self.stopped = f"{identity} could not connect and boot {_CONNECT_TRIES} times in a row"
        return None

    async def _lost_target(self, generation: int, finding: Finding | None) -> None:
        """The target may be down: restart it (once per crash, whoever notices first)."""
        assert self._lock is not None
        async with self._lock:
            if self.generation != generation or self.stopped:
                return  # already restarted (or given up on)
            state = await target_state(
                self.where, f"{self.prefix}-probe", self.options.timeout, self.target
            )
            if state == "silent" and finding is not None:
                # The whole target stopped answering: this lost connection is a symptom of
                # that (a storm's connections not opening, say), whoever's case caused it.
                observed = f"{finding.observed}; a fresh connection's Heartbeat got no answer"
                await self._down(attrs.evolve(finding, oracle="hang", observed=observed))
                return
            if state != "crashed":
                if finding is not None:
                    self._add(finding)
                return
            if finding is None:
                await self._restart_or_stop(_CRASHED)
                return
            await self._down(attrs.evolve(finding, oracle="crash", observed=_crash_text(finding)))

    async def _hung(self, generation: int, finding: Finding) -> None:
        """The whole target stopped answering: restart it, or end the run."""
        assert self._lock is not None
        async with self._lock:
            if self.generation != generation or self.stopped:
                return  # seen and dealt with by another connection
            await self._down(finding)

    async def _down(self, finding: Finding) -> None:
        """The target crashed or hung (``finding.oracle``): restart it (or end the run), and
        record the finding, blamed on the case that did it. Under the lock.

        Every connection fails with the target, and whichever noticed first is not necessarily
        the one that brought it down: the cases in progress are the suspects (see _culprit).
        """
        suspects = sorted(self.in_flight.values(), key=lambda flight: flight.last_sent)
        await self._restart_or_stop(_CRASHED if finding.oracle == "crash" else _HUNG)
        if self.target is not None and not self.stopped and len(suspects) > 1:
            finding = await self._culprit(suspects, finding)
        self._add(finding)

    async def _culprit(self, suspects: list[_InFlight], finding: Finding) -> Finding:
        """Replay each suspect case alone on a fresh connection (after a BootNotification),
        the oldest unanswered first, with the workers paused: the first that crashes (or hangs)
        the restarted target again is the culprit, named in the finding. When none does alone
        (it took several connections, or earlier state), ``finding`` stays as it is. Under the
        lock, with --restart-cmd."""
        assert self._go is not None and self.target is not None
        oracle = finding.oracle
        self._go.clear()
        phase, self.live.phase = self.live.phase, f"finding which case made the target {oracle}"
        try:
            for suspect in suspects:
                if any(step.op == "storm" for step in suspect.case.steps) or not suspect.sent:
                    continue
                frames = list(suspect.sent)
                if not suspect.case.fresh:
                    frames.insert(0, boot_frame(random.Random(suspect.case.index))[1])
                timeout = min(self.options.timeout, _CONFIRM_TIMEOUT)
                identity = f"{self.prefix}-culprit"
                try:
                    seen = await observe(self.where, [(identity, frames)], timeout, self.target)
                except ConnectError:
                    return finding
                if seen.oracle in ("crash", "hang"):
                    again = _CRASHED if seen.oracle == "crash" else _HUNG
                    await self._restart_or_stop(f"{again}, replaying case {suspect.case.index}")
                if seen.oracle == oracle:
                    did = "crashed" if oracle == "crash" else "hung"
                    observed = (
                        f"{finding.observed}; replayed alone on a fresh connection, this case"
                        f" {did} it again"
                    )
                    return self._finding(
                        oracle, suspect.case, observed, [suspect.link], confirmed=True
                    )
                if self.stopped:
                    return finding
            return finding
        finally:
            self.live.phase = phase
            self._go.set()

    async def _restart_or_stop(self, what: str) -> None:
        """With --restart-cmd, restart the target; without, end the run. Under the lock."""
        if self.target is None:
            self.stopped = f"the target {what}; give --restart-cmd to restart it and carry on"
            return
        try:
            await self.target.restart()
        except ConnectError as exc:
            self.stopped = f"the target did not come back after a restart: {exc}"
            return
        self.generation += 1
        self.live.restarts += 1

    def _substitute(self, data: str | bytes, link: Link) -> str | bytes:
        if isinstance(data, bytes) or "@tx-" not in data:
            return data
        own = link.transactions[-1] if link.transactions else 1
        others = [tx for who, tx in self.other_tx if who != link.identity]
        other = others[-1] if others else 2**31 - 2
        return data.replace(f'"{OWN_TX}"', str(own)).replace(f'"{OTHER_TX}"', str(other))

    async def _run_case(self, number: int, link: Link, case: Case, rng: random.Random) -> Link:
        """Run ``case``; returns the worker's connection (a new one after a reconnect)."""
        timeout = self.options.timeout
        # A connection opened before the last restart died with the target: what it sees
        # now is no news (the crash was reported by whoever saw it first).
        generation = link.generation
        work = link
        if case.fresh:
            try:
                work = await open_link(self.where, f"{link.identity}-new", timeout)
            except ConnectError:
                await self._lost_target(generation, None)
                return link
        used = [work]
        flight = self.in_flight[number] = _InFlight(case, work)
        replies: list[tuple[str, str, Reply]] = []  # (unique id, action, reply)
        settled = True
        last_sent: str | bytes = ""
        for step in case.steps:
            if step.op == "storm":
                await self._storm(case, link.identity, generation)
                continue
            if step.op == "reconnect":
                await work.close()
                fresh = await self._booted(work.identity, rng)
                if fresh is None:
                    return work
                work = fresh
                used.append(work)
                self.links[number] = work
                flight.link = work
                continue
            data = step.data
            if case.family == "sequence":  # only they carry transaction placeholders
                data = self._substitute(data, work)
            sent_at = time.monotonic()
            last_sent = data
            flight.sent.append(data)
            flight.last_sent = sent_at
            if not await work.send(data):
                break
            self.live.calls += 1
            settled = step.expect is not None
            if step.expect is None:
                continue
            reply = await work.wait(step.expect, timeout, since=sent_at)
            replies.append((step.expect, step.action, reply))
            if reply.status != "answer":
                settled = False
                break
        if work.transactions and (work.identity, work.transactions[-1]) not in self.other_tx:
            self.other_tx.append((work.identity, work.transactions[-1]))
        await self._judge(
            case, work, used, replies,
            settled=settled, last_sent=last_sent, generation=generation, rng=rng,
        )  # fmt: skip
        if case.fresh:
            await work.close()
            return link
        if work.closed:
            await work.close()
        return work

    async def _judge(
        self,
        case: Case,
        work: Link,
        used: list[Link],
        replies: list[tuple[str, str, Reply]],
        *,
        settled: bool,
        last_sent: str | bytes,
        generation: int,
        rng: random.Random,
    ) -> None:
        timeout = self.options.timeout
        probe: Reply | None = None
        if not work.closed and not settled:
            probe = await heartbeat(work, rng, timeout)
        if work.closed:
            if work.closed_code == _TOO_BIG and len(last_sent) > BIG_FRAME:
                return  # refusing a frame over 1 MiB by closing is the target's right
            observed = f"the connection was closed {work.closed_how} after this case"
            await self._lost_target(generation, self._finding("dropped", case, observed, used))
            return
        if probe is not None and probe.status == "timeout":
            state = await target_state(self.where, f"{self.prefix}-probe", timeout, self.target)
            if state == "crashed":
                finding = self._finding("crash", case, "no answer, then connections refused", used)
                await self._lost_target(generation, finding)
            elif state == "silent":
                observed = "no answer on the connection; a fresh connection's Heartbeat got none"
                await self._hung(generation, self._finding("hang", case, observed, used))
            else:
                observed = "the connection stopped answering (a fresh connection is answered)"
                self._add(self._finding("stall", case, observed, used))
            await work.close()
            return
        for uid, action, reply in replies:
            if reply.status == "timeout":
                if work.wait_early(UNREADABLE_ID) is not None:
                    continue  # refused as unreadable, under the id OCPP-J gives for that
                observed = f"no answer to {action} within {timeout:g} s; the connection answers"
                self._add(self._finding("unanswered", case, observed, used))
                continue
            self._check_answer(case, uid, action, reply, used)
        if case.decisive is not None and case.payload is None:
            early = work.wait_early(case.decisive)
            if early is not None and isinstance(early, list) and early[:1] == [CALLRESULT]:
                observed = "a CALL with a unique id over 36 characters got a CALLRESULT"
                self._add(self._finding("accepted-invalid", case, observed, used))
        if work.unreadable:
            text = work.unreadable.popleft()
            work.unreadable.clear()
            observed = f"a frame that is not OCPP-J came back: {text[:200]!r}"
            self._add(self._finding("invalid-answer", case, observed, used))

    def _check_answer(
        self, case: Case, uid: str, action: str, reply: Reply, used: list[Link]
    ) -> None:
        frame = reply.frame
        if uid == case.decisive and case.payload is not None and frame[:1] == [CALLRESULT]:
            bad = invalid_paths(case.action, case.payload)
            if bad:
                kind, path = attribute(case, bad[0])
                observed = f"an invalid {case.action} was answered with a CALLRESULT ({bad[0]})"
                finding = self._finding("accepted-invalid", case, observed, used)
                self._add(attrs.evolve(finding, kind=kind, path=path))
                return
        if case.kind == "frame: action unknown" and frame[:1] == [CALLRESULT]:
            observed = "a CALL of an action OCPP 1.6 does not have got a CALLRESULT"
            self._add(self._finding("accepted-invalid", case, observed, used))
            return
        problem = answer_problem(action, frame)
        if problem:
            finding = self._finding("invalid-answer", case, problem, used)
            self._add(attrs.evolve(finding, action=action, kind="", path=""))
            return
        slow = self.slow.slow(action, reply.elapsed)
        if slow:
            self._add(self._finding("slow", case, slow, used))

    async def _storm(self, case: Case, identity: str, generation: int) -> None:
        timeout = self.options.timeout
        names = [f"{identity}-storm-{i}" for i in range(STORM_SIZE)]
        opened = await asyncio.gather(
            *(open_link(self.where, name, timeout) for name in names), return_exceptions=True
        )
        links = [x for x in opened if isinstance(x, Link)]
        self.live.connections = len(self.links) + len(links)
        rng = random.Random(case.index)
        await asyncio.gather(*(boot(x, rng, timeout) for x in links))
        self.live.calls += len(links)
        await asyncio.gather(*(x.close() for x in links))
        self.live.connections = len(self.links)
        failed = [x for x in opened if isinstance(x, ConnectError)]
        if failed and not all(isinstance(x, HandshakeError) for x in failed):
            observed = f"{len(failed)} of {STORM_SIZE} connections opened at once failed"
            observed += f": {failed[0]}"
            finding = self._finding("dropped", case, observed, links)
            await self._lost_target(generation, attrs.evolve(finding, concurrent=True))

    # Findings -----------------------------------------------------------------------------------

    def _finding(
        self, oracle: str, case: Case, observed: str, used: list[Link], *, confirmed: bool = False
    ) -> Finding:
        """The finding of ``case`` on the connections ``used``; ``confirmed``: replaying that
        case alone showed it to be the culprit, so no other connection's frames are kept."""
        kind, path = case.kind, case.path
        if case.payload is not None and not invalid_paths(case.action, case.payload):
            # The mutations left the payload valid: whatever happened, a valid CALL did it.
            kind, path = VALID_KIND, ""
        connections = tuple(record(link) for link in used)
        if oracle in ("crash", "dropped") and not confirmed:
            # The culprit may be another connection's last frames: keep them all, the one that
            # saw it last (ddmin sorts them out).
            budget = RECORD_BYTES // max(len(self.links), 1)
            others = tuple(
                record(x, budget=budget) for x in self.links.values() if x not in used and x.log
            )
            connections = others + connections
        return Finding(
            oracle,
            case.action,
            kind,
            path,
            observed,
            self.options.seed,
            case.index,
            case.title,
            connections,
        )

    def _add(self, finding: Finding) -> None:
        known = self.findings.get(finding.signature)
        if known is None and finding.signature[0] != "security":
            known = self._same_bug(finding)
        if known is not None:
            known.count += 1
            return
        if len(self.findings) >= MAX_FINDINGS:
            return
        self.findings[finding.signature] = finding
        self.live.findings[finding.oracle] += 1

    def _same_bug(self, finding: Finding) -> Finding | None:
        """A known finding that one of this case's stacked mutations explains: the same oracle
        and action, and the kind and path of one of the mutations (not a new bug)."""
        if finding.case < 0:
            return None
        case = make_case(self.options.seed, finding.case, self.actions)
        for mutation in case.mutations[1:]:
            other = attrs.evolve(finding, kind=mutation.kind, path=mutation.path)
            known = self.findings.get(other.signature)
            if known is not None:
                return known
        return None

    # Minimizing and saving ----------------------------------------------------------------------

    def _save_all(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        for number, finding in enumerate(self.findings.values(), 1):
            path = out / file_name(number, finding)
            save(finding, self.where.base, path)
            finding.file = str(path)


_CRASHED: Final = "crashed (it refuses connections)"
_HUNG: Final = "hung (a fresh connection gets no answer)"


def _crash_text(finding: Finding) -> str:
    return f"{finding.observed}; then the target refused connections (crashed)"
