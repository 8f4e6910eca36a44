"""Plans: timed events per connector, from a JSON or TOML file, or drawn at random.

A plan is a list of events, each ``at`` seconds after the start of the run::

    # plan.toml                                   (JSON: {"events": [{...}, ...]})
    [[events]]
    at = 0
    connector = 1
    do = "plug_in"          # an EV arrives...
    id_tag = "TAG001"       # ...and its driver presents this idTag (optional)
    energy_wh = 20000       # what the EV wants (default 20000)
    max_power_w = 11000     # the most it draws (default 11000)
    soc = 35                # its state of charge in %, when it reports one (optional)

    [[events]]
    at = 5400
    connector = 1
    do = "unplug"

``do`` is one of ``plug_in``, ``present`` (an idTag at the reader: ``id_tag``), ``unplug``,
``stop`` (the stop button), ``fault`` (``error_code``, a ChargePointErrorCode, default
OtherError; connector 0 is the whole charge point), ``recover``, and ``offline`` (the network
is lost for ``seconds``; no connector). :func:`load_plan` checks everything before the run and
raises :class:`PlanError` with one line per problem, each naming its place
(``plan.toml: $.events[2].energy_wh: expected a number above 0, got "lots"``).

:func:`auto_sessions` draws a plan of plausible sessions from a seeded ``random.Random``:
arrivals per connector with exponential gaps, idTags from a list, the energy wanted, the EV's
maximum power, whether it reports a SoC, and a dwell time longer than the charge.
"""

from __future__ import annotations

import json
import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from ocpp16._generated.enums import ChargePointErrorCode
from ocpp16._text import printable, shorten
from ocpp16.errors import InputError
from ocpp16.station.station import Station

__all__ = [
    "ACTIONS",
    "MAX_PLAN_BYTES",
    "MAX_PLAN_EVENTS",
    "PlanError",
    "PlanEvent",
    "apply_event",
    "auto_sessions",
    "load_plan",
    "parse_plan",
    "schedule_plan",
]

#: Largest plan file read, and most events in a plan.
MAX_PLAN_BYTES: Final = 1024 * 1024
MAX_PLAN_EVENTS: Final = 10_000
#: Problems listed before the rest are counted only.
_MAX_LISTED: Final = 20

#: Each action and the fields it takes (besides at, do, connector): name -> required.
ACTIONS: Final[dict[str, dict[str, bool]]] = {
    "plug_in": {"id_tag": False, "energy_wh": False, "max_power_w": False, "soc": False},
    "present": {"id_tag": True},
    "unplug": {},
    "stop": {},
    "fault": {"error_code": False},
    "recover": {},
    "offline": {"seconds": True},
}

_ERROR_CODES: Final = [c.value for c in ChargePointErrorCode if c != ChargePointErrorCode.NO_ERROR]


class PlanError(InputError):
    """A plan that cannot be run; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:_MAX_LISTED]
        if len(problems) > _MAX_LISTED:
            shown.append(f"... and {len(problems) - _MAX_LISTED} more problems")
        super().__init__("\n".join(shown))


@dataclass(frozen=True, slots=True)
class PlanEvent:
    """One event of a plan (the fields ``do`` does not take stay at their defaults)."""

    at: float
    do: str
    connector: int = 0
    id_tag: str | None = None
    energy_wh: float = 20_000.0
    max_power_w: float = 11_000.0
    soc: float | None = None
    error_code: ChargePointErrorCode = ChargePointErrorCode.OTHER_ERROR
    seconds: float = 0.0


def _show(value: Any) -> str:
    return shorten(printable(json.dumps(value, default=str)), 40)


def _number(value: Any, low: float, high: float | None, strict_low: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {_show(value)}"
    if (value <= low) if strict_low else (value < low):
        word = "above" if strict_low else "at least"
        return f"expected a number {word} {low:g}, got {_show(value)}"
    if high is not None and value > high:
        return f"expected a number up to {high:g}, got {_show(value)}"
    return None


def parse_plan(data: Any, source: str, connectors: int) -> list[PlanEvent]:
    """The events of a parsed plan document, sorted by time; PlanError lists every problem."""
    problems: list[str] = []

    def problem(path: str, text: str) -> None:
        problems.append(f"{source}: {path}: {text}")

    if not isinstance(data, dict) or set(data) != {"events"}:
        raise PlanError([f"{source}: $: expected an object with one key, events"])
    raw = data["events"]
    if not isinstance(raw, list):
        raise PlanError([f"{source}: $.events: expected a list of events"])
    if len(raw) > MAX_PLAN_EVENTS:
        raise PlanError([f"{source}: $.events: at most {MAX_PLAN_EVENTS} events, got {len(raw)}"])
    events: list[PlanEvent] = []
    for index, item in enumerate(raw):
        path = f"$.events[{index}]"
        if not isinstance(item, dict):
            problem(path, "expected an object")
            continue
        do = item.get("do")
        if do not in ACTIONS:
            problem(f"{path}.do", f"expected one of {', '.join(ACTIONS)}, got {_show(do)}")
            continue
        fields = ACTIONS[do]
        allowed = {"at", "do", *fields} | ({"connector"} if do != "offline" else set())
        for key in item:
            if key not in allowed:
                problem(f"{path}.{printable(str(key))[:40]}", f"not a field of {do}")
        for key, required in fields.items():
            if required and key not in item:
                problem(f"{path}.{key}", "missing")
        before = len(problems)
        values: dict[str, Any] = {}
        checks = {
            "at": (0.0, None, False),
            "energy_wh": (0.0, 1e7, True),
            "max_power_w": (0.0, 1e6, True),
            "soc": (0.0, 100.0, False),
            "seconds": (0.0, 86400.0 * 7, True),
        }
        if "at" not in item:
            problem(f"{path}.at", "missing")
        for key, (low, high, strict) in checks.items():
            if key in item:
                text = _number(item[key], low, high, strict)
                if text:
                    problem(f"{path}.{key}", text)
                else:
                    values[key] = float(item[key])
        if do != "offline":
            connector = item.get("connector")
            lowest = 0 if do in ("fault", "recover") else 1
            if connector is None:
                problem(f"{path}.connector", "missing")
            elif (
                isinstance(connector, bool)
                or not isinstance(connector, int)
                or not lowest <= connector <= connectors
            ):
                problem(
                    f"{path}.connector",
                    f"expected a connector from {lowest} to {connectors}, got {_show(connector)}",
                )
            else:
                values["connector"] = connector
        if "id_tag" in item:
            tag = item["id_tag"]
            if not isinstance(tag, str) or not 1 <= len(tag) <= 20:
                problem(
                    f"{path}.id_tag", f"expected a text of 1 to 20 characters, got {_show(tag)}"
                )
            else:
                values["id_tag"] = tag
        if "error_code" in item:
            code = item["error_code"]
            if code not in _ERROR_CODES:
                problem(
                    f"{path}.error_code",
                    f"expected a ChargePointErrorCode such as OtherError, got {_show(code)}",
                )
            else:
                values["error_code"] = ChargePointErrorCode(code)
        if len(problems) == before and "at" in values:
            if "soc" in values:
                values["soc"] = values["soc"] / 100.0
            events.append(PlanEvent(do=do, **values))
    if problems:
        raise PlanError(problems)
    events.sort(key=lambda event: event.at)
    return events


def load_plan(path: str | Path, connectors: int) -> list[PlanEvent]:
    """Read and check a plan file (``.toml``, else JSON)."""
    path = Path(path)
    name = printable(str(path))
    try:
        with path.open("rb") as handle:
            blob = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError([f"{name}: cannot read: {exc.strerror or exc}"]) from exc
    if len(blob) > MAX_PLAN_BYTES:
        raise PlanError([f"{name}: larger than {MAX_PLAN_BYTES} bytes"])
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError([f"{name}: not UTF-8 text (byte {exc.start})"]) from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError([f"{name}: not valid TOML: {exc}"]) from exc
    except json.JSONDecodeError as exc:
        raise PlanError(
            [f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from exc
    return parse_plan(data, name, connectors)


def auto_sessions(
    rng: random.Random,
    connectors: int,
    duration_s: float,
    id_tags: list[str],
    *,
    mean_gap_s: float = 1800.0,
) -> list[PlanEvent]:
    """Plausible random sessions over ``duration_s`` seconds on every connector, from ``rng``.

    Per connector: the next EV arrives an exponential gap (mean ``mean_gap_s``) after the last
    one left; it wants 5 to 40 kWh, draws at most 3.7, 7.4, 11 or 22 kW, reports its SoC half of
    the time, and stays the time its charge takes at full power plus 10 to 100 % and 5 to 30
    minutes more. Its driver presents an idTag from ``id_tags``.
    """
    if not id_tags or any(not 1 <= len(tag) <= 20 for tag in id_tags):
        raise InputError("id tags: expected at least one, each of 1 to 20 characters")
    events: list[PlanEvent] = []
    for connector in range(1, connectors + 1):
        at = rng.expovariate(1.0 / mean_gap_s)
        while at < duration_s and len(events) < MAX_PLAN_EVENTS - 1:
            energy = float(rng.randrange(5_000, 40_001, 500))
            power = rng.choice((3_700.0, 7_400.0, 11_000.0, 22_000.0))
            soc = float(rng.randrange(10, 61)) / 100.0 if rng.random() < 0.5 else None
            charge_s = energy / power * 3600.0
            dwell = charge_s * rng.uniform(1.1, 2.0) + rng.uniform(300.0, 1800.0)
            events.append(
                PlanEvent(
                    at=round(at, 1),
                    do="plug_in",
                    connector=connector,
                    id_tag=rng.choice(id_tags),
                    energy_wh=energy,
                    max_power_w=power,
                    soc=soc,
                )
            )
            events.append(PlanEvent(at=round(at + dwell, 1), do="unplug", connector=connector))
            at += dwell + rng.expovariate(1.0 / mean_gap_s)
    events.sort(key=lambda event: event.at)
    return events


def schedule_plan(station: Station, events: list[PlanEvent], start: datetime) -> None:
    """Hand a plan to a station: each event is applied when the driver polls at its time."""
    for event in events:
        station.schedule(start + timedelta(seconds=event.at), event)


def apply_event(station: Station, event: PlanEvent, now: datetime) -> None:
    """Carry out one plan event on ``station``."""
    cid = event.connector
    if event.do == "plug_in":
        station.plug_in(
            cid,
            now,
            id_tag=event.id_tag,
            energy_wh=event.energy_wh,
            max_power_w=event.max_power_w,
            soc=event.soc,
        )
    elif event.do == "present" and event.id_tag is not None:
        station.present_id_tag(cid, event.id_tag, now)
    elif event.do == "unplug":
        station.unplug(cid, now)
    elif event.do == "stop":
        station.stop_local(cid, now)
    elif event.do == "fault":
        station.fault(cid, now, event.error_code)
    elif event.do == "recover":
        station.recover(cid, now)
    elif event.do == "offline":
        station.go_offline(event.seconds, now)
