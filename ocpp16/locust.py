"""Locust users that are charge points: ``ChargePointUser`` (the extra ``ocpp16[locust]``).

Each Locust user is one simulated charge point, the :class:`~ocpp16.station.Station` model that
``ocpp16 sim`` runs, driven by the sync client (:mod:`ocpp16._sync`; gevent makes its threads and
sockets cooperative). It boots, heartbeats, reports statuses, runs sessions with meter values and
answers the central system's calls for as long as Locust lets it live, then closes its connection.
Every CALL with its answer is a Locust request: type ``OCPP``, name = the action (``connect``
for a connection attempt, ``connection lost`` when the central system drops it), the time to the
answer, the answer's length, and an exception for a CALLERROR, an invalid answer or a timeout.
The central system's CALLs, answered by the station, are requests of type ``OCPP-CS``.

Importing this module imports Locust, which monkey-patches the process for gevent: do it only in
a locustfile (``import ocpp16`` never does). A locustfile::

    from ocpp16.locust import ChargePointUser

    class ChargePoint(ChargePointUser):
        connectors = 2
        sessions = "auto"

``locust -f locustfile.py --headless -u 1000 -r 100 -t 60s --host ws://HOST:PORT/ocpp``.
Settings are class attributes; the ``--ocpp-*`` options below override them for a run (a master
passes them on to its workers). Identities are ``{identity_prefix}{worker}-{n:05d}``: the worker's
index (0 without a master) and the user's number in its process, so no two users of one run
share one; runs from several masters at once need different prefixes.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from locust import User, constant, events, task
from locust.exception import StopUser

from ocpp16._sync import EndlessSessions, Report, SyncStation, TlsFiles
from ocpp16._text import printable, shorten
from ocpp16.errors import InputError, OcppError
from ocpp16.station import PlanEvent, Station, StationEvent, load_plan, schedule_plan
from ocpp16.station.config import Configuration
from ocpp16.station.core import MAX_CONNECTORS
from ocpp16.transport import endpoint, safe_url, tls_context

__all__ = ["ChargePointUser", "Settings", "settings_for"]

_log: Final = logging.getLogger("ocpp16.locust")

#: request_type of our CALLs (and connections), and of the central system's CALLs we answer.
REQUEST_TYPE: Final = "OCPP"
CS_REQUEST_TYPE: Final = "OCPP-CS"
#: idTags the random sessions present.
DEFAULT_ID_TAGS: Final = tuple(f"TAG{n:04d}" for n in range(1, 21))

#: Longest identity prefix (OCPP 1.6 identities are at most 48 characters; the rest is the
#: worker's index and the user's number).
MAX_PREFIX: Final = 32

#: What a prefix may hold: characters every central system takes in a URL path and HTTP Basic
#: auth's user name (no ':').
_PREFIX: Final = re.compile(r"[A-Za-z0-9._-]*")

#: Each user's number within its process.
_numbers = itertools.count(1)


class ChargePointUser(User):
    """One simulated charge point per Locust user; subclass it in a locustfile.

    Class attributes (each has an ``--ocpp-*`` option of the same name that overrides it):
    ``identity_prefix``, ``connectors``, ``sessions`` (``"auto"``: random sessions from
    ``id_tags``, an EV arriving every ``session_gap_s`` on average per connector; ``None``: only
    what the central system starts), ``plan`` (a plan file, as ``ocpp16 sim --plan``), ``speed``
    (the station's clock runs this much faster), ``password`` (HTTP Basic auth; or the
    ``OCPP16_PASSWORD`` environment variable), ``ca``, ``cert``, ``key``, ``insecure`` (TLS for
    wss://), ``seed`` (repeatable sessions: each user draws from ``seed`` and its identity),
    ``call_timeout``, ``config`` (configuration keys, as ``ocpp16 sim --config``; each
    ``--ocpp-config KEY=VALUE`` changes one). ``vendor`` and ``model`` go to the
    BootNotification. ``host`` is the central system's URL without the identity, usually from
    ``--host``.
    """

    abstract = True
    wait_time = constant(0)  # a step waits for the station's next wake-up itself

    identity_prefix: ClassVar[str] = "CP"
    connectors: ClassVar[int] = 2
    sessions: ClassVar[str | None] = "auto"
    session_gap_s: ClassVar[float] = 1800.0
    id_tags: ClassVar[tuple[str, ...]] = DEFAULT_ID_TAGS
    plan: ClassVar[str | None] = None
    speed: ClassVar[float] = 1.0
    password: ClassVar[str | None] = None
    ca: ClassVar[str | None] = None
    cert: ClassVar[str | None] = None
    key: ClassVar[str | None] = None
    insecure: ClassVar[bool] = False
    seed: ClassVar[int | None] = None
    call_timeout: ClassVar[float] = 30.0
    vendor: ClassVar[str] = "ocpp16"
    model: ClassVar[str] = "locust"
    config: ClassVar[dict[str, str]] = {}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        worker = max(int(getattr(environment.runner, "worker_index", 0) or 0), 0)
        self.number = next(_numbers)
        prefix = _get(self, environment, "identity_prefix")
        self.identity = f"{prefix}{worker}-{self.number:05d}"
        self.driver: SyncStation | None = None

    # The user's life ----------------------------------------------------------------------------

    def on_start(self) -> None:
        try:
            settings = settings_for(type(self), self.environment)
            plan = _plan(settings.plan, settings.connectors) if settings.plan else None
        except InputError as exc:
            _refuse(exc)
            raise StopUser() from None
        rng = random.Random(
            f"{settings.seed}/{self.identity}" if settings.seed is not None else None
        )
        start = datetime.now(UTC)
        station = Station(
            self.identity,
            now=start,
            connectors=settings.connectors,
            vendor=self.vendor,
            model=self.model,
            config=settings.config,
            rng=rng,
        )
        sessions = None
        if plan is not None:
            schedule_plan(station, plan, start)
        elif settings.sessions == "auto":
            sessions = EndlessSessions(
                rng, settings.connectors, list(self.id_tags), start, mean_gap_s=self.session_gap_s
            )
        self.driver = SyncStation(
            station,
            settings.host,
            start=start,
            speed=settings.speed,
            password=settings.password,
            tls=settings.tls,
            timeout=settings.call_timeout,
            rng=rng,
            sessions=sessions,
            on_report=self._report,
            on_station_event=self.on_station_event,
        )

    @task
    def live(self) -> None:
        """One turn of the station: connect if due, send what is due, wait for the next."""
        if self.driver is not None:
            self.driver.step()

    def on_stop(self) -> None:
        if self.driver is not None:
            self.driver.close()

    def on_station_event(self, event: StationEvent) -> None:
        """A change in the station (status, transaction, refusal...); override to watch them."""

    # Reporting ----------------------------------------------------------------------------------

    def _report(self, report: Report) -> None:
        self.environment.events.request.fire(
            request_type=CS_REQUEST_TYPE if report.kind == "cs-call" else REQUEST_TYPE,
            name=report.name,
            response_time=report.elapsed * 1000.0,
            response_length=report.length,
            exception=_bounded(report.error),
            context={"identity": self.identity},
        )


#: Distinct failure messages a process reports as they are; Locust keeps one row per message,
#: and a hostile central system could vary its CALLERROR descriptions without end.
MAX_DISTINCT_ERRORS: Final = 200
_errors_seen: set[str] = set()


def _bounded(error: OcppError | None) -> OcppError | None:
    """``error``, or past MAX_DISTINCT_ERRORS distinct messages, one shared stand-in for it."""
    if error is None:
        return None
    text = str(error)
    if text in _errors_seen:
        return error
    if len(_errors_seen) < MAX_DISTINCT_ERRORS:
        _errors_seen.add(text)
        return error
    kind = type(error).__name__
    return OcppError(f"{kind} (over {MAX_DISTINCT_ERRORS} distinct messages; not shown)")


@dataclass(frozen=True)
class Settings:
    """A user class's settings for a run, checked (see :func:`settings_for`)."""

    host: str
    connectors: int
    sessions: str | None
    plan: str | None
    speed: float
    seed: int | None
    call_timeout: float
    password: str | None
    tls: TlsFiles | None
    config: dict[str, str]


def settings_for(
    user: type[ChargePointUser], environment: Any, *, need_host: bool = True
) -> Settings:
    """``user``'s settings: each ``--ocpp-*`` option given, else the class attribute; the host
    from ``--host`` or the class. InputError (one line) when one is wrong."""

    def get(name: str) -> Any:
        return _get(user, environment, name)

    host = getattr(environment, "host", None) or user.host or ""
    if need_host and not host:
        raise InputError("no central system URL: give --host ws://HOST:PORT/ocpp")
    secure = endpoint(host, "CP").secure if host else True  # InputError for a bad URL
    sessions = get("sessions")
    if sessions in ("", "none", "off"):
        sessions = None
    if sessions not in (None, "auto"):
        raise InputError(f"sessions: expected auto or none, got {_shown(sessions)}")
    seed = get("seed")
    ca, cert, key, insecure = get("ca"), get("cert"), get("key"), bool(get("insecure"))
    tls = TlsFiles(ca or None, cert or None, key or None, insecure)
    if ca or cert or key or insecure:
        if not secure:
            raise InputError(f"TLS options need a wss:// or https:// URL, not {safe_url(host)}")
        tls_context(tls.ca, tls.cert, tls.key, tls.insecure)  # InputError: a file will not load
    prefix = get("identity_prefix")
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX or not _PREFIX.fullmatch(prefix):
        raise InputError(
            f"identity prefix {_shown(prefix)}: expected at most {MAX_PREFIX} letters, digits,"
            " '-', '_' or '.'"
        )
    if not user.id_tags or any(not 1 <= len(tag) <= 20 for tag in user.id_tags):
        raise InputError("id_tags: expected at least one, each of 1 to 20 characters")
    connectors = _number(get("connectors"), "connectors", int, 1, MAX_CONNECTORS)
    config = _config(user, environment)
    # The station checks the rest (vendor and model lengths) as it is built.
    Station("CHECK", now=datetime.now(UTC), connectors=connectors, vendor=user.vendor,
            model=user.model, config=config)  # fmt: skip
    return Settings(
        host=host,
        connectors=connectors,
        sessions=sessions,
        plan=get("plan") or None,
        speed=_number(get("speed"), "speed", float, 1e-3, 1e6),
        seed=None if seed is None else _number(seed, "seed", int, 0, None),
        call_timeout=_number(get("call_timeout"), "call timeout", float, 0.1, 3600.0),
        password=get("password") or os.environ.get("OCPP16_PASSWORD") or None,
        tls=tls if (ca or cert or key or insecure) else None,
        config=config,
    )


def _config(user: type[ChargePointUser], environment: Any) -> dict[str, str]:
    """The class's ``config`` with each ``--ocpp-config KEY=VALUE`` over it, checked."""
    config = dict(user.config)
    options = getattr(environment, "parsed_options", None)
    for item in getattr(options, "ocpp_config", None) or ():
        key, equals, value = str(item).partition("=")
        if not equals:
            raise InputError(f"--ocpp-config {_shown(item)}: expected KEY=VALUE")
        config[key.strip()] = value
    try:
        Configuration(config)
    except InputError as exc:  # the station words it for ocpp16 sim's --config
        raise InputError(str(exc).removeprefix("--")) from None
    return config


def _get(user: type[ChargePointUser] | ChargePointUser, environment: Any, name: str) -> Any:
    """The ``--ocpp-*`` option ``name`` when given, else the class attribute."""
    options = getattr(environment, "parsed_options", None)
    value = getattr(options, f"ocpp_{name}", None) if options is not None else None
    return getattr(user, name) if value is None else value


def _shown(value: Any) -> str:
    # Quoted, not repr(): printable() has escaped it already, and repr would double "\x1b".
    return f"'{printable(shorten(str(value), 40))}'"


def _number(
    value: Any, name: str, kind: Callable[[Any], Any], low: float, high: float | None
) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a number, got {_shown(value)}") from None
    if not (number >= low and (high is None or number <= high)):  # NaN fails both
        bounds = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise InputError(f"{name}: expected {bounds}, got {number}")
    return number


_plans: dict[tuple[str, int], list[PlanEvent]] = {}


def _plan(path: str, connectors: int) -> list[PlanEvent]:
    """A plan file, read once per process (every user runs the same plan)."""
    cached = _plans.get((path, connectors))
    if cached is None:
        cached = _plans[(path, connectors)] = load_plan(path, connectors)
    return cached


# Command-line options and checks -------------------------------------------------------------


def _options(parser: Any) -> None:
    # On the parser itself: Locust's own add_argument takes include_in_web_ui, a group's does not.
    add = parser.add_argument
    add("--ocpp-identity-prefix", dest="ocpp_identity_prefix", help="identity prefix (CP)")
    add("--ocpp-connectors", dest="ocpp_connectors", type=int, help="connectors per charge point")
    add("--ocpp-sessions", dest="ocpp_sessions", help="auto (random sessions) or none")
    add("--ocpp-plan", dest="ocpp_plan", help="plan file of timed events per connector")
    add("--ocpp-speed", dest="ocpp_speed", type=float, help="station clock speed-up")
    add(
        "--ocpp-config",
        dest="ocpp_config",
        action="append",
        metavar="KEY=VALUE",
        help="a configuration key of every station (repeatable)",
    )
    add("--ocpp-seed", dest="ocpp_seed", type=int, help="seed for repeatable sessions")
    add("--ocpp-call-timeout", dest="ocpp_call_timeout", type=float, help="seconds per answer")
    add(
        "--ocpp-password",
        dest="ocpp_password",
        help="HTTP Basic auth password (or OCPP16_PASSWORD)",
        include_in_web_ui=False,
    )
    add("--ocpp-ca", dest="ocpp_ca", help="CA bundle verifying the central system (wss)")
    add("--ocpp-cert", dest="ocpp_cert", help="client certificate (PEM)")
    add("--ocpp-key", dest="ocpp_key", help="client private key (PEM)")
    add(
        "--ocpp-insecure",
        dest="ocpp_insecure",
        action="store_true",
        default=None,
        help="do not verify the central system's certificate",
    )


_refused: set[str] = set()


def _refuse(exc: InputError) -> None:
    """Bad settings: one line per process and problem, no traceback; the user stops."""
    text = str(exc)
    if text not in _refused:
        _refused.add(text)
        _log.error("ocpp16: %s", text)


def _check(environment: Any, **_: Any) -> None:
    """Check every ChargePointUser's settings before the run (not on workers: their options
    come from the master): bad input is one line on stderr and exit code 2."""
    from locust.runners import WorkerRunner

    if isinstance(environment.runner, WorkerRunner):
        return
    options = getattr(environment, "parsed_options", None)
    headless = bool(getattr(options, "headless", False) or getattr(options, "autostart", False))
    for user in environment.user_classes or ():
        if isinstance(user, type) and issubclass(user, ChargePointUser):
            try:
                settings = settings_for(user, environment, need_host=headless)
                if settings.plan:
                    _plan(settings.plan, settings.connectors)
            except InputError as exc:
                sys.stderr.write(f"ocpp16: {user.__name__}: {exc}\n")
                raise SystemExit(2) from None


# Locust's EventHook.add_listener is untyped.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_check)  # type: ignore[no-untyped-call]
