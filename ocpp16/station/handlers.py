"""What the charge point does with each CALL of the central system, and what it answers.

One function per CS->CP action, each taking the Station, the typed request and ``now``, and
returning the typed response; the side effects (a StopTransaction, a StatusNotification, a
status sequence) are left in the station for the driver's next poll. :data:`HANDLERS` maps
request classes to them; a request of a CP->CS action is refused with NotSupported.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from ocpp16._generated.cancel_reservation import (
    CancelReservationRequest,
    CancelReservationResponse,
)
from ocpp16._generated.change_availability import (
    ChangeAvailabilityRequest,
    ChangeAvailabilityResponse,
)
from ocpp16._generated.change_configuration import (
    ChangeConfigurationRequest,
    ChangeConfigurationResponse,
)
from ocpp16._generated.clear_cache import ClearCacheRequest, ClearCacheResponse
from ocpp16._generated.clear_charging_profile import (
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
)
from ocpp16._generated.data_transfer import DataTransferRequest, DataTransferResponse
from ocpp16._generated.diagnostics_status_notification import DiagnosticsStatusNotificationRequest
from ocpp16._generated.enums import (
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    ReadingContext,
    Reason,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
)
from ocpp16._generated.firmware_status_notification import FirmwareStatusNotificationRequest
from ocpp16._generated.get_composite_schedule import (
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
)
from ocpp16._generated.get_configuration import GetConfigurationRequest, GetConfigurationResponse
from ocpp16._generated.get_diagnostics import GetDiagnosticsRequest, GetDiagnosticsResponse
from ocpp16._generated.get_local_list_version import (
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
)
from ocpp16._generated.heartbeat import HeartbeatRequest
from ocpp16._generated.remote_start_transaction import (
    RemoteStartTransactionRequest,
    RemoteStartTransactionResponse,
)
from ocpp16._generated.remote_stop_transaction import (
    RemoteStopTransactionRequest,
    RemoteStopTransactionResponse,
)
from ocpp16._generated.reserve_now import ReserveNowRequest, ReserveNowResponse
from ocpp16._generated.reset import ResetRequest, ResetResponse
from ocpp16._generated.send_local_list import SendLocalListRequest, SendLocalListResponse
from ocpp16._generated.set_charging_profile import (
    SetChargingProfileRequest,
    SetChargingProfileResponse,
)
from ocpp16._generated.trigger_message import TriggerMessageRequest, TriggerMessageResponse
from ocpp16._generated.unlock_connector import UnlockConnectorRequest, UnlockConnectorResponse
from ocpp16._generated.update_firmware import UpdateFirmwareRequest, UpdateFirmwareResponse
from ocpp16._model import Request, Response
from ocpp16.errors import CallError
from ocpp16.station._time import plausible
from ocpp16.station.points import Reservation
from ocpp16.station.station import MAX_COMPOSITE_S, Station

__all__ = ["HANDLERS", "handle_call"]

Handler = Callable[[Station, Any, datetime], Response]


def handle_call(station: Station, request: Request[Any], now: datetime) -> Response:
    """The typed answer to a CALL of the central system (side effects left for ``poll``).

    Raises CallError NotSupported for an action a charge point does not receive.
    """
    handler = HANDLERS.get(type(request))
    if handler is None:
        raise CallError("NotSupported", f"{request.ACTION} is not sent to a charge point")
    station.advance(now)
    response = handler(station, request, now)
    station.refresh(now)
    return response


def _remote_start(
    st: Station, req: RemoteStartTransactionRequest, now: datetime
) -> RemoteStartTransactionResponse:
    rejected = RemoteStartTransactionResponse(status=RemoteStartStopStatus.REJECTED)
    profile = req.charging_profile
    if profile is not None and (
        profile.charging_profile_purpose != ChargingProfilePurposeType.TX_PROFILE
        or not st.smart.acceptable(profile)
    ):
        return rejected
    cid = req.connector_id if req.connector_id is not None else st.pick_connector()
    if cid is None or not 1 <= cid <= st.connectors or not st.can_start(cid, req.id_tag, now):
        return rejected
    st.remote_start(cid, req.id_tag, profile, now)
    return RemoteStartTransactionResponse(status=RemoteStartStopStatus.ACCEPTED)


def _remote_stop(
    st: Station, req: RemoteStopTransactionRequest, now: datetime
) -> RemoteStopTransactionResponse:
    for cid in range(1, st.connectors + 1):
        tx = st.transaction(cid)
        if tx is not None and tx.transaction_id == req.transaction_id:
            st.stop(cid, Reason.REMOTE, now)
            return RemoteStopTransactionResponse(status=RemoteStartStopStatus.ACCEPTED)
    return RemoteStopTransactionResponse(status=RemoteStartStopStatus.REJECTED)


def _reset(st: Station, req: ResetRequest, now: datetime) -> ResetResponse:
    st.reset(req.type == ResetType.SOFT, now)
    return ResetResponse(status=ResetStatus.ACCEPTED)


def _change_availability(
    st: Station, req: ChangeAvailabilityRequest, now: datetime
) -> ChangeAvailabilityResponse:
    if not 0 <= req.connector_id <= st.connectors:
        return ChangeAvailabilityResponse(status=AvailabilityStatus.REJECTED)
    scheduled = st.change_availability(
        req.connector_id, req.type == AvailabilityType.OPERATIVE, now
    )
    status = AvailabilityStatus.SCHEDULED if scheduled else AvailabilityStatus.ACCEPTED
    return ChangeAvailabilityResponse(status=status)


def _unlock(st: Station, req: UnlockConnectorRequest, now: datetime) -> UnlockConnectorResponse:
    if not 1 <= req.connector_id <= st.connectors:
        return UnlockConnectorResponse(status=UnlockStatus.NOT_SUPPORTED)
    if st.transaction(req.connector_id) is not None:
        st.stop(req.connector_id, Reason.UNLOCK_COMMAND, now)
    return UnlockConnectorResponse(status=UnlockStatus.UNLOCKED)


def _reserve(st: Station, req: ReserveNowRequest, now: datetime) -> ReserveNowResponse:
    cid = req.connector_id
    reservation = Reservation(req.reservation_id, req.id_tag, req.parent_id_tag, req.expiry_date)
    if (
        not 0 <= cid <= st.connectors
        or req.expiry_date <= st.clock(now)
        or not plausible(req.expiry_date)
    ):
        return ReserveNowResponse(status=ReservationStatus.REJECTED)
    if cid == 0 and not st.config.flag("ReserveConnectorZeroSupported"):
        return ReserveNowResponse(status=ReservationStatus.REJECTED)
    return ReserveNowResponse(status=st.reserve(cid, reservation, now))


def _cancel(st: Station, req: CancelReservationRequest, now: datetime) -> CancelReservationResponse:
    found = st.cancel_reservation(req.reservation_id, now)
    status = CancelReservationStatus.ACCEPTED if found else CancelReservationStatus.REJECTED
    return CancelReservationResponse(status=status)


def _set_profile(
    st: Station, req: SetChargingProfileRequest, now: datetime
) -> SetChargingProfileResponse:
    cid = req.connector_id
    tx = st.transaction(cid) if 1 <= cid <= st.connectors else None
    context = st.tx_context(tx) if tx is not None else None
    status = st.smart.set(cid, req.cs_charging_profiles, st.clock(now), context)
    return SetChargingProfileResponse(status=status)


def _clear_profile(
    st: Station, req: ClearChargingProfileRequest, now: datetime
) -> ClearChargingProfileResponse:
    status = st.smart.clear(req.id, req.connector_id, req.charging_profile_purpose, req.stack_level)
    return ClearChargingProfileResponse(status=status)


def _composite(
    st: Station, req: GetCompositeScheduleRequest, now: datetime
) -> GetCompositeScheduleResponse:
    cid = req.connector_id
    if not 0 <= cid <= st.connectors or req.duration < 0:
        return GetCompositeScheduleResponse(status=GetCompositeScheduleStatus.REJECTED)
    tx = st.transaction(cid) if cid else None
    start = st.clock(now).replace(microsecond=0)
    schedule = st.smart.composite(
        cid,
        start,
        min(req.duration, MAX_COMPOSITE_S),
        req.charging_rate_unit or ChargingRateUnitType.W,
        st.tx_context(tx) if tx is not None else None,
    )
    return GetCompositeScheduleResponse(
        status=GetCompositeScheduleStatus.ACCEPTED,
        connector_id=cid,
        schedule_start=start,
        charging_schedule=schedule,
    )


def _trigger(st: Station, req: TriggerMessageRequest, now: datetime) -> TriggerMessageResponse:
    cid = req.connector_id
    if cid is not None and not 0 <= cid <= st.connectors:
        return TriggerMessageResponse(status=TriggerMessageStatus.REJECTED)
    what = req.requested_message
    if what == MessageTrigger.BOOT_NOTIFICATION:
        st.send_later(st.boot_request(), triggered=True)
    elif what == MessageTrigger.HEARTBEAT:
        st.send_later(HeartbeatRequest(), triggered=True)
    elif what == MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION:
        st.send_later(
            DiagnosticsStatusNotificationRequest(status=st.transfers.diagnostics), triggered=True
        )
    elif what == MessageTrigger.FIRMWARE_STATUS_NOTIFICATION:
        st.send_later(
            FirmwareStatusNotificationRequest(status=st.transfers.firmware), triggered=True
        )
    elif what == MessageTrigger.STATUS_NOTIFICATION:
        for target in [cid] if cid is not None else range(st.connectors + 1):
            st.trigger_status(target, now)
    elif what == MessageTrigger.METER_VALUES:
        targets = [cid] if cid else range(1, st.connectors + 1)
        for target in targets:
            request = st.meter_values_request(target, ReadingContext.TRIGGER, now)
            if request is not None:
                st.send_later(request, triggered=True)
    else:  # pragma: no cover - the enumeration has no other member
        return TriggerMessageResponse(status=TriggerMessageStatus.NOT_IMPLEMENTED)
    return TriggerMessageResponse(status=TriggerMessageStatus.ACCEPTED)


def _change_configuration(
    st: Station, req: ChangeConfigurationRequest, now: datetime
) -> ChangeConfigurationResponse:
    status = st.config.change(req.key, req.value)
    if status == ConfigurationStatus.ACCEPTED:
        st.configuration_changed(req.key, now)
    return ChangeConfigurationResponse(status=status)


def _get_configuration(
    st: Station, req: GetConfigurationRequest, now: datetime
) -> GetConfigurationResponse:
    return st.config.get(req.key)


def _clear_cache(st: Station, req: ClearCacheRequest, now: datetime) -> ClearCacheResponse:
    st.auth.clear_cache()
    return ClearCacheResponse(status=ClearCacheStatus.ACCEPTED)


def _send_local_list(
    st: Station, req: SendLocalListRequest, now: datetime
) -> SendLocalListResponse:
    status = st.auth.send_local_list(
        req,
        max_length=st.config.integer("LocalAuthListMaxLength"),
        max_per_message=st.config.integer("SendLocalListMaxLength"),
    )
    return SendLocalListResponse(status=status)


def _local_list_version(
    st: Station, req: GetLocalListVersionRequest, now: datetime
) -> GetLocalListVersionResponse:
    return GetLocalListVersionResponse(list_version=st.auth.list_version)


def _data_transfer(st: Station, req: DataTransferRequest, now: datetime) -> DataTransferResponse:
    if req.vendor_id not in st.data_transfer:
        return DataTransferResponse(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
    return DataTransferResponse(
        status=DataTransferStatus.ACCEPTED, data=st.data_transfer[req.vendor_id]
    )


def _diagnostics(st: Station, req: GetDiagnosticsRequest, now: datetime) -> GetDiagnosticsResponse:
    stamp = st.clock(now).strftime("%Y%m%dT%H%M%SZ")
    name = f"diagnostics-{stamp}.log"
    st.start_diagnostics(req.location, now)
    return GetDiagnosticsResponse(file_name=name)


def _update_firmware(
    st: Station, req: UpdateFirmwareRequest, now: datetime
) -> UpdateFirmwareResponse:
    st.start_firmware(req.location, req.retrieve_date, now)
    return UpdateFirmwareResponse()


HANDLERS: Final[dict[type[Request[Any]], Handler]] = {
    CancelReservationRequest: _cancel,
    ChangeAvailabilityRequest: _change_availability,
    ChangeConfigurationRequest: _change_configuration,
    ClearCacheRequest: _clear_cache,
    ClearChargingProfileRequest: _clear_profile,
    DataTransferRequest: _data_transfer,
    GetCompositeScheduleRequest: _composite,
    GetConfigurationRequest: _get_configuration,
    GetDiagnosticsRequest: _diagnostics,
    GetLocalListVersionRequest: _local_list_version,
    RemoteStartTransactionRequest: _remote_start,
    RemoteStopTransactionRequest: _remote_stop,
    ReserveNowRequest: _reserve,
    ResetRequest: _reset,
    SendLocalListRequest: _send_local_list,
    SetChargingProfileRequest: _set_profile,
    TriggerMessageRequest: _trigger,
    UnlockConnectorRequest: _unlock,
    UpdateFirmwareRequest: _update_firmware,
}
