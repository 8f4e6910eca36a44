"""The meter of one connector and the EV plugged into it: energy, power, voltage, current, SoC.

The register (Energy.Active.Import.Register, Wh) only grows: :meth:`Meter.advance` adds the
energy of the power drawn over the time elapsed. The power is set by the station from the power
model, :func:`power_drawn`: the EV draws up to its maximum, within the connector's rating and the
charging-profile limit in force, tapering as it fills (above 80 % SoC, or of the energy wanted
when the EV does not report a SoC), and nothing once it has what it wanted.

:func:`sampled_values` turns one reading into the SampledValues of the measurands asked for
(MeterValuesSampledData, MeterValuesAlignedData, StopTxnSampledData, StopTxnAlignedData), each
with its unit, context, phase and location: voltage near nominal with a little noise per phase,
current = power / voltage per phase, the register in whole Wh (the same number meterStart and
meterStop carry), the SoC as a whole percentage where the EV reports one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from ocpp16._generated.datatypes import SampledValue
from ocpp16._generated.enums import (
    Location,
    Measurand,
    Phase,
    ReadingContext,
    UnitOfMeasure,
)

__all__ = [
    "EV",
    "NOMINAL_VOLTAGE",
    "Meter",
    "Reading",
    "power_drawn",
    "sampled_values",
]

#: Nominal phase-to-neutral voltage (V).
NOMINAL_VOLTAGE: Final = 230.0
#: Standard deviation of the voltage noise (V) and the band it stays in (fraction of nominal).
_VOLTAGE_NOISE: Final = 1.5
_VOLTAGE_BAND: Final = 0.05
#: The EV's acceptance starts to fall at this fill fraction and ends at _TAPER_FLOOR of its max.
_TAPER_FROM: Final = 0.8
_TAPER_FLOOR: Final = 0.15
#: The power electronics' temperature (°C) idle and at full power.
_TEMPERATURE_IDLE: Final = 25.0
_TEMPERATURE_RISE: Final = 15.0
#: Energy below which two amounts are the same (Wh).
_EPSILON_WH: Final = 1e-6
_PHASES: Final = (Phase.L1, Phase.L2, Phase.L3)
_PHASES_N: Final = (Phase.L1_N, Phase.L2_N, Phase.L3_N)


@dataclass(slots=True)
class EV:
    """The car on a connector: how much it takes, how much it wants, what it has had."""

    max_power_w: float
    energy_wanted_wh: float
    #: State of charge at plug-in (0..1) when the EV reports one, else None.
    soc_start: float | None = None
    capacity_wh: float = 60_000.0
    delivered_wh: float = 0.0

    @property
    def fill(self) -> float:
        """How full it is: its SoC when it reports one, else the share of the energy wanted."""
        if self.soc_start is not None:
            return min(1.0, self.soc_start + self.delivered_wh / self.capacity_wh)
        if self.energy_wanted_wh <= 0:
            return 1.0
        return min(1.0, self.delivered_wh / self.energy_wanted_wh)

    @property
    def satisfied(self) -> bool:
        # Within a micro-Wh: float sums must not leave an EV forever "almost full".
        return self.delivered_wh >= self.energy_wanted_wh - _EPSILON_WH or (
            self.soc_start is not None and self.fill >= 1.0
        )

    @property
    def soc_percent(self) -> int | None:
        return None if self.soc_start is None else round(self.fill * 100)


def power_drawn(ev: EV | None, limit_w: float) -> float:
    """The power (W) the EV draws under ``limit_w``: its maximum, tapered near full, zero when
    satisfied or not there."""
    if ev is None or ev.satisfied or limit_w <= 0:
        return 0.0
    acceptance = ev.max_power_w
    fill = ev.fill
    if fill > _TAPER_FROM:
        share = (fill - _TAPER_FROM) / (1.0 - _TAPER_FROM)
        acceptance *= max(_TAPER_FLOOR, 1.0 - share * (1.0 - _TAPER_FLOOR))
    return max(0.0, min(acceptance, limit_w))


@dataclass(frozen=True, slots=True)
class Reading:
    """What the meter shows at one moment."""

    register_wh: int
    power_w: float
    offered_w: float
    voltages: tuple[float, ...]
    soc_percent: int | None


class Meter:
    """One connector's energy register and instantaneous power."""

    __slots__ = ("phases", "power_w", "register_wh")

    def __init__(self, register_wh: float = 0.0, phases: int = 3) -> None:
        self.register_wh = register_wh
        self.power_w = 0.0
        self.phases = phases

    @property
    def whole_wh(self) -> int:
        """The register in whole Wh, as every message carries it (floored, so it never runs
        ahead of the energy; the epsilon absorbs float sums such as 7399.999999 for 7400)."""
        return int(self.register_wh + _EPSILON_WH)

    def advance(self, seconds: float, ev: EV | None) -> None:
        """Count the energy of ``power_w`` over ``seconds`` (into the EV too); never backwards."""
        if seconds <= 0 or self.power_w <= 0:
            return
        energy = self.power_w * seconds / 3600.0
        if ev is not None:
            # The EV stops at what it wanted: the last step is cut to that.
            energy = max(0.0, min(energy, ev.energy_wanted_wh - ev.delivered_wh))
            ev.delivered_wh += energy
        self.register_wh += energy

    def seconds_to_satisfy(self, ev: EV | None) -> float | None:
        """At the present power, in how many seconds the EV has the energy it wants."""
        if ev is None or self.power_w <= 0:
            return None
        return max(0.0, (ev.energy_wanted_wh - ev.delivered_wh) * 3600.0 / self.power_w)

    def read(self, rng: random.Random, offered_w: float, ev: EV | None) -> Reading:
        """A reading, with fresh voltage noise per phase."""
        low, high = NOMINAL_VOLTAGE * (1 - _VOLTAGE_BAND), NOMINAL_VOLTAGE * (1 + _VOLTAGE_BAND)
        voltages = tuple(
            min(high, max(low, rng.gauss(NOMINAL_VOLTAGE, _VOLTAGE_NOISE)))
            for _ in range(self.phases)
        )
        return Reading(
            register_wh=self.whole_wh,
            power_w=self.power_w,
            offered_w=offered_w,
            voltages=voltages,
            soc_percent=ev.soc_percent if ev is not None else None,
        )


def _value(
    value: str,
    measurand: Measurand,
    context: ReadingContext,
    unit: UnitOfMeasure,
    *,
    phase: Phase | None = None,
    location: Location = Location.OUTLET,
) -> SampledValue:
    return SampledValue(
        value=value,
        context=context,
        measurand=measurand,
        unit=unit,
        phase=phase,
        location=location,
    )


def sampled_values(
    reading: Reading, measurands: list[Measurand], context: ReadingContext
) -> list[SampledValue]:
    """The SampledValues of ``measurands`` for ``reading``; SoC only where the EV reports it."""
    out: list[SampledValue] = []
    phases = len(reading.voltages)
    for measurand in measurands:
        if measurand == Measurand.ENERGY_ACTIVE_IMPORT_REGISTER:
            out.append(_value(str(reading.register_wh), measurand, context, UnitOfMeasure.WH))
        elif measurand == Measurand.POWER_ACTIVE_IMPORT:
            out.append(_value(f"{reading.power_w:.1f}", measurand, context, UnitOfMeasure.W))
        elif measurand == Measurand.POWER_OFFERED:
            out.append(_value(f"{reading.offered_w:.1f}", measurand, context, UnitOfMeasure.W))
        elif measurand == Measurand.CURRENT_IMPORT:
            for phase, volts in zip(_PHASES, reading.voltages, strict=False):
                amps = reading.power_w / (volts * phases)
                out.append(_value(f"{amps:.2f}", measurand, context, UnitOfMeasure.A, phase=phase))
        elif measurand == Measurand.CURRENT_OFFERED:
            amps = reading.offered_w / (NOMINAL_VOLTAGE * phases)
            out.append(_value(f"{amps:.1f}", measurand, context, UnitOfMeasure.A))
        elif measurand == Measurand.VOLTAGE:
            for phase, volts in zip(_PHASES_N, reading.voltages, strict=False):
                out.append(_value(f"{volts:.1f}", measurand, context, UnitOfMeasure.V, phase=phase))
        elif measurand == Measurand.TEMPERATURE:
            share = reading.power_w / reading.offered_w if reading.offered_w > 0 else 0.0
            celsius = _TEMPERATURE_IDLE + _TEMPERATURE_RISE * min(1.0, share)
            out.append(
                _value(
                    f"{celsius:.1f}",
                    measurand,
                    context,
                    UnitOfMeasure.CELSIUS,
                    location=Location.BODY,
                )
            )
        elif measurand == Measurand.SOC and reading.soc_percent is not None:
            out.append(
                _value(
                    str(reading.soc_percent),
                    measurand,
                    context,
                    UnitOfMeasure.PERCENT,
                    location=Location.EV,
                )
            )
    return out
