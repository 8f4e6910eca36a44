"""The action registry and the public names of the generated API."""

from __future__ import annotations

import re
import typing
from enum import StrEnum

import attrs
import pytest

import ocpp16
from ocpp16 import ACTIONS, Model, Request, Response, Sender, UnknownAction, resolve_action

CP_SENDS = {
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
}
SPEC_TYPES = [
    "AuthorizationData",
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "IdTagInfo",
    "KeyValue",
    "MeterValue",
    "SampledValue",
]
SPEC_ENUMS = [
    "AuthorizationStatus",
    "AvailabilityStatus",
    "AvailabilityType",
    "CancelReservationStatus",
    "ChargePointErrorCode",
    "ChargePointStatus",
    "ChargingProfileKindType",
    "ChargingProfilePurposeType",
    "ChargingProfileStatus",
    "ChargingRateUnitType",
    "ClearCacheStatus",
    "ClearChargingProfileStatus",
    "ConfigurationStatus",
    "DataTransferStatus",
    "DiagnosticsStatus",
    "FirmwareStatus",
    "GetCompositeScheduleStatus",
    "Location",
    "Measurand",
    "MessageTrigger",
    "Phase",
    "ReadingContext",
    "Reason",
    "RecurrencyKindType",
    "RegistrationStatus",
    "RemoteStartStopStatus",
    "ReservationStatus",
    "ResetStatus",
    "ResetType",
    "TriggerMessageStatus",
    "UnitOfMeasure",
    "UnlockStatus",
    "UpdateStatus",
    "UpdateType",
    "ValueFormat",
]


def test_twenty_eight_actions_with_their_senders() -> None:
    assert len(ACTIONS) == 28
    for name, action in ACTIONS.items():
        assert action.name == name
        assert action.request.__name__ == f"{name}Request"
        assert action.response.__name__ == f"{name}Response"
        assert issubclass(action.request, Request)
        assert issubclass(action.response, Response)
        assert action.request.ACTION == action.response.ACTION == name
        expected = (
            Sender.BOTH
            if name == "DataTransfer"
            else (Sender.CP if name in CP_SENDS else Sender.CS)
        )
        assert action.sender is expected, name
    assert ACTIONS["BootNotification"].request is ocpp16.BootNotificationRequest


@pytest.mark.parametrize(
    "typed", ["BootNotification", "bootnotification", "BootNotificationRequest", "BOOTNOTIFICATION"]
)
def test_resolve_action_accepts_any_case_and_the_request_suffix(typed: str) -> None:
    assert resolve_action(typed).name == "BootNotification"


def test_unknown_action_suggests_the_closest() -> None:
    with pytest.raises(UnknownAction) as caught:
        resolve_action("Hartbeat")
    assert caught.value.suggestions[0] == "Heartbeat"
    assert "did you mean Heartbeat" in str(caught.value)


def test_public_names_are_spec_names() -> None:
    names = set(ocpp16.__all__)
    for name in SPEC_TYPES:
        assert issubclass(getattr(ocpp16, name), Model)
    for name in SPEC_ENUMS:
        assert issubclass(getattr(ocpp16, name), StrEnum)
    generated = set(ocpp16._generated.__all__) - {"ACTIONS"}
    assert generated == set(SPEC_TYPES) | set(SPEC_ENUMS) | {
        f"{a}{kind}" for a in ACTIONS for kind in ("Request", "Response")
    }
    mangled = [n for n in names if re.search(r"\d$|Item$|Datum$|Model\d", n)]
    assert not mangled


def _field_classes(cls: type) -> set[type]:
    found: set[type] = set()
    for hint in typing.get_type_hints(cls).values():
        stack = [hint]
        while stack:
            item = stack.pop()
            if isinstance(item, type):
                found.add(item)
            stack += typing.get_args(item)
    return found


def test_shared_types_are_one_class() -> None:
    assert ocpp16.IdTagInfo in _field_classes(ocpp16.AuthorizeResponse)
    assert ocpp16.IdTagInfo in _field_classes(ocpp16.StartTransactionResponse)
    assert ocpp16.IdTagInfo in _field_classes(ocpp16.AuthorizationData)
    assert ocpp16.MeterValue in _field_classes(ocpp16.StopTransactionRequest)
    assert ocpp16.MeterValue in _field_classes(ocpp16.MeterValuesRequest)
    assert ocpp16.ChargingProfile in _field_classes(ocpp16.RemoteStartTransactionRequest)
    assert ocpp16.ChargingProfile in _field_classes(ocpp16.SetChargingProfileRequest)


def test_attributes_are_snake_case_bound_to_wire_names() -> None:
    fields = {f.name: f.metadata["wire"] for f in attrs.fields(ocpp16.BootNotificationRequest)}
    assert fields["charge_point_vendor"] == "chargePointVendor"
    assert fields["charge_box_serial_number"] == "chargeBoxSerialNumber"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in fields)


def test_enum_members_are_readable() -> None:
    assert ocpp16.Measurand.ENERGY_ACTIVE_IMPORT_REGISTER.value == "Energy.Active.Import.Register"
    assert ocpp16.Phase.L1_N.value == "L1-N"
    assert ocpp16.UnitOfMeasure.KWH.value == "kWh"
    assert ocpp16.Measurand.SOC.value == "SoC"
    assert ocpp16.ChargePointStatus.SUSPENDED_EVSE.value == "SuspendedEVSE"
