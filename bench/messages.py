"""Message speed: random payloads out, and parsing in, over all 56 classes with full=True.

(a) ``Cls.random(full=True)`` + ``to_dict()`` + ``json.dumps`` per second, against ``json.dumps``
    alone of the same payloads (the ceiling: what serialising costs without making them).
(b) ``json.loads`` + ``Cls.from_dict`` per second, against ``json.loads`` + jsonschema's
    Draft4Validator (with a date-time FormatChecker) validating the same payloads.
(c) the same ``json.loads`` + ``Cls.from_dict`` against fastjsonschema's compiled validation
    alone (no ``json.loads``, no objects built) of the same, already decoded payloads: what a
    user who wants speed would pick.

Run: ``python -m bench.messages [--seconds-per-class S]``. One process, so one core; rates are
per second of the process's CPU time.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from ocpp16 import ACTIONS, Model, UnitOfMeasure
from ocpp16.schemas import load_schema

TARGET_RANDOM = 100_000
TARGET_PARSE_RATIO = 5.0
TARGET_FASTJSONSCHEMA_RATIO = 1.0
BATCH = 200


def _rate(work: Callable[[], int], seconds: float) -> float:
    """Items per second of ``work`` (which returns how many items it did), run for ``seconds``.

    Seconds of this process's CPU time: on cores shared with other work, wall-clock rates of
    ours and of the peers would move with whatever else runs.
    """
    done, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        done += work()
    return done / elapsed


def _with_errata(node: Any) -> Any:
    """The schema read as ocpp16 reads it: the errata's units in every UnitOfMeasure enum (our
    random payloads may carry Hertz in StopTransaction), so that the peers validate them too."""
    if isinstance(node, dict):
        if "kWh" in node.get("enum", ()):
            added = [unit.value for unit in UnitOfMeasure if unit not in node["enum"]]
            node["enum"] = [*node["enum"], *added]
        for value in node.values():
            _with_errata(value)
    elif isinstance(node, list):
        for item in node:
            _with_errata(item)
    return node


def _classes() -> list[tuple[str, bool, type[Model]]]:
    return [
        (action.name, response, action.response if response else action.request)
        for action in ACTIONS.values()
        for response in (False, True)
    ]


def _measure(name: str, response: bool, cls: type[Model], seconds: float) -> list[float]:
    """Rates of: making, dumping only, parsing, validating with jsonschema, with fastjsonschema."""
    import fastjsonschema
    from jsonschema import Draft4Validator, FormatChecker

    rng = random.Random(2026)
    payloads = [cls.random(full=True, rng=rng).to_dict() for _ in range(BATCH)]
    texts = [json.dumps(p) for p in payloads]
    schema = _with_errata(load_schema(name, response))
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    compiled = fastjsonschema.compile(schema)

    def make() -> int:
        for _ in range(BATCH):
            json.dumps(cls.random(full=True, rng=rng).to_dict())
        return BATCH

    def dump_only() -> int:
        for payload in payloads:
            json.dumps(payload)
        return BATCH

    def parse() -> int:
        for text in texts:
            cls.from_dict(json.loads(text))
        return BATCH

    def validate() -> int:
        for text in texts:
            validator.validate(json.loads(text))
        return BATCH

    def validate_fast() -> int:
        for payload in payloads:
            compiled(payload)
        return BATCH

    def loads_only() -> int:
        for text in texts:
            json.loads(text)
        return BATCH

    works = (make, dump_only, parse, validate, validate_fast, loads_only)
    return [_rate(work, seconds) for work in works]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds-per-class", type=float, default=0.2)
    args = parser.parse_args()

    rows: list[tuple[str, list[float]]] = [
        (cls.__name__, _measure(name, response, cls, args.seconds_per_class))
        for name, response, cls in _classes()
    ]
    header = (
        f"{'class':40} {'random/s':>10} {'dumps/s':>10} {'parse/s':>10} {'jsonschema/s':>12}"
        f"  ratio {'fastjsonschema/s':>16}  ratio"
    )
    print(header)
    for cls_name, (made, dumped, parsed, validated, fast, _) in rows:
        print(
            f"{cls_name:40} {made:10,.0f} {dumped:10,.0f} {parsed:10,.0f} {validated:12,.0f}"
            f"  {parsed / validated:4.1f}x {fast:16,.0f}  {parsed / fast:4.2f}x"
        )

    def mean(i: int) -> float:
        return sum(rates[i] for _, rates in rows) / len(rows)

    def aggregate(i: int) -> float:
        # The same number of payloads of every class: total payloads / total time.
        return len(rows) / sum(1 / rates[i] for _, rates in rows)

    ratios = [rates[2] / rates[3] for _, rates in rows]
    print()
    print("(a) random(full=True) + to_dict + json.dumps, payloads/s over the 56 classes")
    print(f"    mean of the per-class rates : {mean(0):10,.0f}  (target {TARGET_RANDOM:,})")
    print(f"    aggregate (equal mix)       : {aggregate(0):10,.0f}")
    print(
        f"    peer, json.dumps alone      : {aggregate(1):10,.0f}  "
        f"ours/peer = {aggregate(0) / aggregate(1):.2f} (the ceiling)"
    )
    print("(b) json.loads + from_dict vs json.loads + jsonschema Draft4Validator, payloads/s")
    print(
        f"    aggregate: ours {aggregate(2):,.0f}, jsonschema {aggregate(3):,.0f} = "
        f"{aggregate(2) / aggregate(3):.1f}x  (target {TARGET_PARSE_RATIO:.0f}x)"
    )
    print(
        f"    per class: mean {sum(ratios) / len(ratios):.1f}x, lowest {min(ratios):.1f}x"
        f" ({rows[ratios.index(min(ratios))][0]})"
    )
    fast_ratios = [rates[2] / rates[4] for _, rates in rows]
    print("(c) json.loads + from_dict vs fastjsonschema's compiled validation alone, payloads/s")
    print(
        f"    aggregate: ours {aggregate(2):,.0f}, fastjsonschema {aggregate(4):,.0f} = "
        f"{aggregate(2) / aggregate(4):.2f}x  (target {TARGET_FASTJSONSCHEMA_RATIO:.2f}x)"
    )
    print(
        f"    per class: mean {sum(fast_ratios) / len(fast_ratios):.2f}x, lowest"
        f" {min(fast_ratios):.2f}x ({rows[fast_ratios.index(min(fast_ratios))][0]})"
    )
    print(
        f"    json.loads alone: {aggregate(5):,.0f} = {aggregate(5) / aggregate(4):.2f}x"
        " fastjsonschema (the ceiling of json.loads + anything)"
    )


if __name__ == "__main__":
    main()
