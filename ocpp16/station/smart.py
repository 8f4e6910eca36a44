"""Smart charging: installed charging profiles, the limit in force, the composite schedule.

Rules of OCPP 1.6 (section 3.13) the code follows:

- ChargePointMaxProfile is set on connector 0 and caps the whole charge point. TxDefaultProfile
  on connector 0 applies to every connector, on connector N to that one only (N wins over 0).
  TxProfile is set on a connector with a transaction running and applies to that transaction
  only; it is removed when the transaction ends; while one is in force, TxDefaultProfile is not.
- A new profile replaces the installed one with the same chargingProfileId, or with the same
  stackLevel and purpose on the same connector.
- A schedule starts at startSchedule (Absolute; the time it was installed when absent), at the
  start of the transaction (Relative), or at the latest daily or weekly repetition of
  startSchedule (Recurring). It is in force from validFrom to validTo and for ``duration``
  seconds after its start (for ever when absent); a period lasts until the next one starts.
- Within one purpose the profile with the highest stackLevel that is in force at a moment wins;
  when it is not (before its first period, after its duration), the next lower one applies.
- The limit in force is the smallest of the ChargePointMaxProfile's and the transaction's
  (TxProfile, else TxDefaultProfile), and of the connector's own rating. Amperes and watts
  convert with the nominal voltage and the schedule's numberPhases (3 when absent).

GetCompositeSchedule is that limit over the requested duration, as the periods where it changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from ocpp16._generated.datatypes import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod
from ocpp16._generated.enums import (
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    RecurrencyKindType,
)
from ocpp16.station._time import plausible, plausible_offset

__all__ = ["DEFAULT_PHASES", "Installed", "SmartCharging", "TxContext"]

Purpose = ChargingProfilePurposeType

#: Phases a schedule period means when it does not say (numberPhases absent).
DEFAULT_PHASES: Final = 3

#: How far ahead :meth:`SmartCharging.next_change` looks for a change of limit (a week covers
#: every recurring profile's cycle).
_HORIZON: Final = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class TxContext:
    """The transaction a limit is asked for: the station's own key for it, the central
    system's transactionId once known, and when it started (Relative schedules start then)."""

    key: int
    transaction_id: int | None
    started: datetime


@dataclass(slots=True)
class Installed:
    """A profile as installed: on which connector, when, and for which transaction."""

    connector_id: int
    profile: ChargingProfile
    installed_at: datetime
    tx_key: int | None = None


@dataclass(slots=True)
class SmartCharging:
    """The installed profiles of one charge point and the limits they set."""

    voltage: float
    connector_max_w: float
    connectors: int
    max_installed: int = 20
    max_stack_level: int = 10
    max_periods: int = 24
    profiles: list[Installed] = field(default_factory=list)

    # Installing and clearing -------------------------------------------------------------------

    def set(
        self, connector_id: int, profile: ChargingProfile, now: datetime, tx: TxContext | None
    ) -> ChargingProfileStatus:
        """SetChargingProfile: install ``profile`` on ``connector_id``; the status to answer."""
        purpose = profile.charging_profile_purpose
        if (
            not 0 <= connector_id <= self.connectors
            or not self.acceptable(profile)
            or (purpose == Purpose.CHARGE_POINT_MAX_PROFILE and connector_id != 0)
        ):
            return ChargingProfileStatus.REJECTED
        tx_key = None
        if purpose == Purpose.TX_PROFILE:
            if connector_id == 0 or tx is None:
                return ChargingProfileStatus.REJECTED
            if profile.transaction_id is not None and profile.transaction_id != tx.transaction_id:
                return ChargingProfileStatus.REJECTED
            tx_key = tx.key
        kept = [
            p
            for p in self.profiles
            if p.profile.charging_profile_id != profile.charging_profile_id
            and not (
                p.connector_id == connector_id
                and p.profile.stack_level == profile.stack_level
                and p.profile.charging_profile_purpose == purpose
            )
        ]
        if len(kept) >= self.max_installed:
            return ChargingProfileStatus.REJECTED
        kept.append(Installed(connector_id, profile, now, tx_key))
        self.profiles = kept
        return ChargingProfileStatus.ACCEPTED

    def acceptable(self, profile: ChargingProfile) -> bool:
        """Whether ``profile`` is within this charge point's means (ChargeProfileMaxStackLevel,
        ChargingScheduleMaxPeriods), complete (a Recurring one says how it recurs) and sane (no
        negative limit, dates and offsets within _time.py's range)."""
        schedule = profile.charging_schedule
        periods = schedule.charging_schedule_period
        return (
            0 <= profile.stack_level <= self.max_stack_level
            and 0 < len(periods) <= self.max_periods
            # Dates and offsets the arithmetic survives (a hostile year 9999 is refused).
            and all(
                plausible(moment)
                for moment in (profile.valid_from, profile.valid_to, schedule.start_schedule)
            )
            and plausible_offset(schedule.duration)
            and all(plausible_offset(p.start_period) and p.limit >= 0 for p in periods)
            and (
                profile.charging_profile_kind != ChargingProfileKindType.RECURRING
                or profile.recurrency_kind is not None
            )
        )

    def clear(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: ChargingProfilePurposeType | None,
        stack_level: int | None,
    ) -> ClearChargingProfileStatus:
        """ClearChargingProfile: an id clears that profile whatever the other filters say;
        otherwise every profile matching all the filters given (none given: all)."""

        def matches(p: Installed) -> bool:
            if profile_id is not None:
                return p.profile.charging_profile_id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.profile.charging_profile_purpose == purpose)
                and (stack_level is None or p.profile.stack_level == stack_level)
            )

        kept = [p for p in self.profiles if not matches(p)]
        if len(kept) == len(self.profiles):
            return ClearChargingProfileStatus.UNKNOWN
        self.profiles = kept
        return ClearChargingProfileStatus.ACCEPTED

    def transaction_ended(self, tx_key: int) -> None:
        """A transaction's TxProfiles go with it."""
        self.profiles = [p for p in self.profiles if p.tx_key != tx_key]

    # Limits ------------------------------------------------------------------------------------

    def limit_w(self, connector_id: int, at: datetime, tx: TxContext | None) -> float:
        """The power limit in force on ``connector_id`` at ``at`` (W; the rating when no
        profile limits it). Connector 0 gets the charge point's limit."""
        limits = [self.connector_max_w if connector_id else self.connector_max_w * self.connectors]
        cp_max = self._top(Purpose.CHARGE_POINT_MAX_PROFILE, (0,), at, None)
        if cp_max is not None:
            limits.append(cp_max)
        if connector_id:
            tx_limit = self._top(Purpose.TX_PROFILE, (connector_id,), at, tx) if tx else None
            if tx_limit is None:
                tx_limit = self._top(Purpose.TX_DEFAULT_PROFILE, (connector_id,), at, tx)
            if tx_limit is None:
                tx_limit = self._top(Purpose.TX_DEFAULT_PROFILE, (0,), at, tx)
            if tx_limit is not None:
                limits.append(tx_limit)
        return min(limits)

    def next_change(self, at: datetime, tx_by_connector: dict[int, TxContext]) -> datetime | None:
        """The next moment after ``at`` when some profile's value may change (for wake-ups)."""
        if not self.profiles:
            return None
        end = at + _HORIZON
        times = [
            moment
            for p in self.profiles
            for moment in self._breakpoints(p, at, end, tx_by_connector.get(p.connector_id))
            if moment > at
        ]
        return min(times, default=None)

    def composite(
        self,
        connector_id: int,
        start: datetime,
        duration_s: int,
        unit: ChargingRateUnitType,
        tx: TxContext | None,
    ) -> ChargingSchedule:
        """GetCompositeSchedule: the limit from ``start`` for ``duration_s`` seconds, as the
        periods where it changes, in ``unit``."""
        end = start + timedelta(seconds=duration_s)
        moments = {start}
        for p in self.profiles:
            if p.connector_id in (0, connector_id):
                moments.update(m for m in self._breakpoints(p, start, end, tx) if start < m < end)
        periods: list[ChargingSchedulePeriod] = []
        for moment in sorted(moments):
            limit = self._in_unit(self.limit_w(connector_id, moment, tx), unit)
            if periods and periods[-1].limit == limit:
                continue
            periods.append(
                ChargingSchedulePeriod(
                    start_period=int((moment - start).total_seconds()), limit=limit
                )
            )
        return ChargingSchedule(
            charging_rate_unit=unit,
            charging_schedule_period=periods,
            duration=duration_s,
            start_schedule=start,
        )

    # Internals ---------------------------------------------------------------------------------

    def _in_unit(self, watts: float, unit: ChargingRateUnitType) -> float:
        if unit == ChargingRateUnitType.W:
            return round(watts, 1)
        return round(watts / (self.voltage * DEFAULT_PHASES), 1)

    def _watts(self, limit: float, unit: ChargingRateUnitType, phases: int | None) -> float:
        if unit == ChargingRateUnitType.W:
            return limit
        return limit * self.voltage * (phases or DEFAULT_PHASES)

    def _top(
        self, purpose: Purpose, connector_ids: tuple[int, ...], at: datetime, tx: TxContext | None
    ) -> float | None:
        """The limit (W) of the highest-stack profile of ``purpose`` in force at ``at``."""
        candidates = [
            p
            for p in self.profiles
            if p.profile.charging_profile_purpose == purpose
            and p.connector_id in connector_ids
            and (p.tx_key is None or (tx is not None and p.tx_key == tx.key))
        ]
        candidates.sort(key=lambda p: p.profile.stack_level, reverse=True)
        for p in candidates:
            limit = self._value_at(p, at, tx)
            if limit is not None:
                return limit
        return None

    def _schedule_start(self, p: Installed, at: datetime, tx: TxContext | None) -> datetime | None:
        profile = p.profile
        base = profile.charging_schedule.start_schedule or p.installed_at
        kind = profile.charging_profile_kind
        if kind == ChargingProfileKindType.RELATIVE:
            return tx.started if tx is not None else None
        if kind == ChargingProfileKindType.ABSOLUTE:
            return base
        cycle = timedelta(days=7 if profile.recurrency_kind == RecurrencyKindType.WEEKLY else 1)
        if at < base:
            return None
        return base + cycle * ((at - base) // cycle)

    def _value_at(self, p: Installed, at: datetime, tx: TxContext | None) -> float | None:
        profile = p.profile
        if profile.valid_from is not None and at < profile.valid_from:
            return None
        if profile.valid_to is not None and at >= profile.valid_to:
            return None
        start = self._schedule_start(p, at, tx)
        if start is None or at < start:
            return None
        schedule = profile.charging_schedule
        offset = (at - start).total_seconds()
        if schedule.duration is not None and offset >= schedule.duration:
            return None
        current = None
        for period in sorted(schedule.charging_schedule_period, key=lambda q: q.start_period):
            if period.start_period > offset:
                break
            current = period
        if current is None:
            return None
        return self._watts(current.limit, schedule.charging_rate_unit, current.number_phases)

    def _breakpoints(
        self, p: Installed, start: datetime, end: datetime, tx: TxContext | None
    ) -> Iterator[datetime]:
        """Every moment in [start, end] at which ``p``'s value may change."""
        profile = p.profile
        if profile.valid_from is not None:
            yield profile.valid_from
        if profile.valid_to is not None:
            yield profile.valid_to
        schedule = profile.charging_schedule
        offsets = [period.start_period for period in schedule.charging_schedule_period]
        if schedule.duration is not None:
            offsets.append(schedule.duration)
        first = self._schedule_start(p, start, tx)
        if profile.charging_profile_kind == ChargingProfileKindType.RECURRING:
            base = schedule.start_schedule or p.installed_at
            cycle = timedelta(days=7 if profile.recurrency_kind == RecurrencyKindType.WEEKLY else 1)
            first = first or base
            starts: list[datetime] = []
            moment = first
            while moment <= end:
                starts.append(moment)
                moment += cycle
        else:
            starts = [first] if first is not None else []
        for begin in starts:
            for offset in offsets:
                yield begin + timedelta(seconds=offset)
