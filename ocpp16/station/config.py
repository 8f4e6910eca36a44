"""The charge point's configuration keys: defaults, types, read-only flags, validation.

Every key of the Core profile and of the profiles the station implements (LocalAuthListManagement,
Reservation, SmartCharging, RemoteTrigger, FirmwareManagement) is described once in :data:`KEYS`.
A :class:`Configuration` stores only the values that differ from the defaults (a fleet of
thousands of stations shares the defaults), answers GetConfiguration and ChangeConfiguration, and
gives typed reads to the rest of the model.

ChangeConfiguration answers, as the spec defines them: ``NotSupported`` for a key it does not know,
``Rejected`` for a read-only key or a value of the wrong type or range, ``RebootRequired`` for a
key whose new value is stored and takes effect at the next boot, ``Accepted`` otherwise (the
change is in force when the call returns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from ocpp16._generated.datatypes import KeyValue
from ocpp16._generated.enums import ConfigurationStatus, Measurand
from ocpp16._generated.get_configuration import GetConfigurationResponse
from ocpp16.errors import CallError, InputError

__all__ = [
    "FEATURE_PROFILES",
    "KEYS",
    "SUPPORTED_MEASURANDS",
    "Configuration",
    "KeySpec",
]

Kind = Literal["bool", "int", "str", "measurands", "units", "profiles"]

#: Measurands the meter model produces (see meter.py); MeterValues*Data lists may name only these.
SUPPORTED_MEASURANDS: Final = (
    Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
    Measurand.POWER_ACTIVE_IMPORT,
    Measurand.POWER_OFFERED,
    Measurand.CURRENT_IMPORT,
    Measurand.CURRENT_OFFERED,
    Measurand.VOLTAGE,
    Measurand.TEMPERATURE,
    Measurand.SOC,
)

FEATURE_PROFILES: Final = (
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "Reservation",
    "SmartCharging",
    "RemoteTrigger",
)

#: Longest comma-separated measurand list accepted (MeterValuesSampledDataMaxLength etc.).
MAX_MEASURANDS: Final = len(SUPPORTED_MEASURANDS)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configuration key: its type, default, whether the central system may change it,
    whether a change waits for a reboot, and the range of an integer."""

    name: str
    kind: Kind
    default: str
    readonly: bool = False
    reboot: bool = False
    minimum: int = 0
    maximum: int = 2**31 - 1


def _k(name: str, kind: Kind, default: str, **options: bool | int) -> tuple[str, KeySpec]:
    return name, KeySpec(name, kind, default, **options)  # type: ignore[arg-type]


_MEASURAND_DEFAULT: Final = Measurand.ENERGY_ACTIVE_IMPORT_REGISTER.value

KEYS: Final[dict[str, KeySpec]] = dict(
    [
        # Core
        _k("AllowOfflineTxForUnknownId", "bool", "false"),
        _k("AuthorizationCacheEnabled", "bool", "true"),
        _k("AuthorizeRemoteTxRequests", "bool", "false"),
        _k("ClockAlignedDataInterval", "int", "0", maximum=86400),
        _k("ConnectionTimeOut", "int", "60", minimum=1, maximum=3600),
        _k("ConnectorPhaseRotation", "str", "0.RST", reboot=True),
        _k("GetConfigurationMaxKeys", "int", "50", readonly=True),
        _k("HeartbeatInterval", "int", "300", minimum=1, maximum=86400),
        _k("LocalAuthorizeOffline", "bool", "true"),
        _k("LocalPreAuthorize", "bool", "false"),
        _k("MeterValuesAlignedData", "measurands", _MEASURAND_DEFAULT),
        _k("MeterValuesAlignedDataMaxLength", "int", str(MAX_MEASURANDS), readonly=True),
        _k(
            "MeterValuesSampledData",
            "measurands",
            f"{_MEASURAND_DEFAULT},{Measurand.POWER_ACTIVE_IMPORT.value}",
        ),
        _k("MeterValuesSampledDataMaxLength", "int", str(MAX_MEASURANDS), readonly=True),
        _k("MeterValueSampleInterval", "int", "60", maximum=86400),
        _k("MinimumStatusDuration", "int", "0", maximum=3600),
        _k("NumberOfConnectors", "int", "1", readonly=True),
        _k("ResetRetries", "int", "3", maximum=10),
        _k("StopTransactionOnEVSideDisconnect", "bool", "true"),
        _k("StopTransactionOnInvalidId", "bool", "true"),
        _k("StopTxnAlignedData", "measurands", ""),
        _k("StopTxnAlignedDataMaxLength", "int", str(MAX_MEASURANDS), readonly=True),
        _k("StopTxnSampledData", "measurands", _MEASURAND_DEFAULT),
        _k("StopTxnSampledDataMaxLength", "int", str(MAX_MEASURANDS), readonly=True),
        _k("SupportedFeatureProfiles", "profiles", ",".join(FEATURE_PROFILES), readonly=True),
        _k("TransactionMessageAttempts", "int", "3", minimum=1, maximum=10),
        _k("TransactionMessageRetryInterval", "int", "60", maximum=3600),
        _k("UnlockConnectorOnEVSideDisconnect", "bool", "true"),
        _k("WebSocketPingInterval", "int", "0", maximum=3600),
        # LocalAuthListManagement
        _k("LocalAuthListEnabled", "bool", "true"),
        _k("LocalAuthListMaxLength", "int", "1000", readonly=True),
        _k("SendLocalListMaxLength", "int", "100", readonly=True),
        # Reservation
        _k("ReserveConnectorZeroSupported", "bool", "true", readonly=True),
        # SmartCharging
        _k("ChargeProfileMaxStackLevel", "int", "10", readonly=True),
        _k("ChargingScheduleAllowedChargingRateUnit", "units", "Current,Power", readonly=True),
        _k("ChargingScheduleMaxPeriods", "int", "24", readonly=True),
        _k("MaxChargingProfilesInstalled", "int", "20", readonly=True),
    ]
)

_TRUE_FALSE: Final = {"true": True, "false": False}


def _problem(spec: KeySpec, value: str) -> str | None:
    """What is wrong with ``value`` for ``spec`` (None when it is fine)."""
    if len(value) > 500:
        return "at most 500 characters"
    if spec.kind == "bool":
        return None if value.lower() in _TRUE_FALSE else "expected true or false"
    if spec.kind == "int":
        try:
            number = int(value)
        except ValueError:
            return "expected an integer"
        if not spec.minimum <= number <= spec.maximum:
            return f"expected an integer from {spec.minimum} to {spec.maximum}"
        return None
    if spec.kind in ("measurands", "units", "profiles"):
        items = [item.strip() for item in value.split(",") if item.strip()]
        allowed = {
            "measurands": [m.value for m in SUPPORTED_MEASURANDS],
            "units": ["Current", "Power"],
            "profiles": list(FEATURE_PROFILES),
        }[spec.kind]
        unknown = [item for item in items if item not in allowed]
        if unknown:
            return f"{unknown[0][:50]!r} is not one of {', '.join(allowed)}"
        if len(items) > len(allowed):
            return f"at most {len(allowed)} items"
        return None
    return None


class Configuration:
    """The keys' values: defaults shared, changes stored; typed reads for the model."""

    __slots__ = ("_pending", "_values")

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = {}
        #: RebootRequired changes, applied by :meth:`reboot`.
        self._pending: dict[str, str] = {}
        for key, value in (overrides or {}).items():
            spec = KEYS.get(key)
            if spec is None:
                raise InputError(f"--config {key[:50]}: not a configuration key of this station")
            problem = _problem(spec, value)
            if problem:
                raise InputError(f"--config {key}={value[:50]}: {problem}")
            self._values[key] = value

    # Typed reads -----------------------------------------------------------------------------

    def raw(self, key: str) -> str:
        return self._values.get(key, KEYS[key].default)

    def integer(self, key: str) -> int:
        return int(self.raw(key))

    def flag(self, key: str) -> bool:
        return self.raw(key).lower() == "true"

    def items(self, key: str) -> list[str]:
        return [item.strip() for item in self.raw(key).split(",") if item.strip()]

    def measurands(self, key: str) -> list[Measurand]:
        return [Measurand(item) for item in self.items(key)]

    def set_internal(self, key: str, value: str) -> None:
        """Set a key from inside the charge point (read-only ones included, e.g. the boot
        answer's interval into HeartbeatInterval)."""
        if value == KEYS[key].default:
            self._values.pop(key, None)
        else:
            self._values[key] = value

    def reboot(self) -> list[str]:
        """Apply RebootRequired changes; returns the keys applied."""
        applied = list(self._pending)
        for key, value in self._pending.items():
            self.set_internal(key, value)
        self._pending.clear()
        return applied

    # The central system's calls --------------------------------------------------------------

    def get(self, keys: Iterable[str] | None) -> GetConfigurationResponse:
        """GetConfiguration: every key when ``keys`` is empty, else the known ones and the
        unknown ones by name. More than GetConfigurationMaxKeys keys is a CALLERROR."""
        wanted = list(keys or [])
        limit = self.integer("GetConfigurationMaxKeys")
        if len(wanted) > limit:
            raise CallError(
                "OccurenceConstraintViolation",
                f"at most {limit} keys per GetConfiguration (GetConfigurationMaxKeys)",
            )
        names = wanted or list(KEYS)
        known = [
            KeyValue(key=name, readonly=KEYS[name].readonly, value=self.raw(name))
            for name in names
            if name in KEYS
        ]
        unknown = [name for name in names if name not in KEYS]
        return GetConfigurationResponse(
            configuration_key=known or None, unknown_key=unknown or None
        )

    def change(self, key: str, value: str) -> ConfigurationStatus:
        """ChangeConfiguration: the status to answer; Accepted values are in force at once."""
        spec = KEYS.get(key)
        if spec is None:
            return ConfigurationStatus.NOT_SUPPORTED
        if spec.readonly or _problem(spec, value) is not None:
            return ConfigurationStatus.REJECTED
        if spec.kind == "bool":
            value = value.lower()
        if spec.reboot:
            self._pending[key] = value
            return ConfigurationStatus.REBOOT_REQUIRED
        self.set_internal(key, value)
        return ConfigurationStatus.ACCEPTED
