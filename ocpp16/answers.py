"""Plausible traffic of a central system: the answers and requests a real one would send.

``ocpp16 serve`` answers with these by default, so a charge point developer sees what a working
central system says (an Accepted boot with the current time, increasing transaction ids) rather
than random values. :class:`Answers` keeps the little state that needs (the last transaction id),
one instance per server; the simulator and the load tool can reuse it.

=============================  ==================================================================
CALL from the charge point     answer
=============================  ==================================================================
BootNotification               Accepted, the current time, interval 300 s
Authorize                      idTagInfo Accepted
StartTransaction               idTagInfo Accepted, transactionId 1, 2, 3, ... (per server)
StopTransaction                idTagInfo Accepted when the request has an idTag, else empty
Heartbeat                      the current time
DataTransfer                   UnknownVendorId (this server implements no vendor extension)
StatusNotification, MeterValues, DiagnosticsStatusNotification, FirmwareStatusNotification:
                               the empty answer
=============================  ==================================================================
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ocpp16._generated.actions import ACTIONS
from ocpp16._model import Model, Request, Response
from ocpp16.errors import InputError

__all__ = ["HEARTBEAT_INTERVAL", "Answers"]

#: Seconds between heartbeats that a plausible BootNotification answer asks for.
HEARTBEAT_INTERVAL: Final = 300
_ACCEPTED: Final = {"status": "Accepted"}
#: An id tag and a vendor id for the requests we make up.
_ID_TAG: Final = "OCPP16-TAG"
_VENDOR: Final = "ocpp16"


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class Answers:
    """Plausible answers to charge point CALLs and plausible central-system requests.

    ``now`` gives the current time (UTC); tests pass a fixed clock.
    """

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.now = now
        self._transaction_ids = itertools.count(1)
        #: The last transaction id handed out (what a RemoteStopTransaction stops), 0 before any.
        self.last_transaction_id = 0

    def answer(self, request: Model) -> Response:
        """The response a working central system gives to ``request`` (a charge point CALL)."""
        name = getattr(request, "ACTION", "")
        make = self._RESPONSES.get(name)
        if make is None:
            raise InputError(f"{type(request).__name__} is not a request a charge point sends")
        response = ACTIONS[name].response.from_dict(make(self, request))
        assert isinstance(response, Response)
        return response

    def request(self, kind: type[Request[Any]]) -> Request[Any]:
        """A plausible ``kind`` request from the central system to a charge point."""
        make = self._REQUESTS.get(kind.ACTION)
        if make is None:
            raise InputError(f"{kind.__name__} is not a request a central system sends")
        return kind.from_dict(make(self))

    # Answers to the charge point -----------------------------------------------------------------

    def _boot(self, _: Model) -> dict[str, Any]:
        return {**_ACCEPTED, "currentTime": _time(self.now()), "interval": HEARTBEAT_INTERVAL}

    def _heartbeat(self, _: Model) -> dict[str, Any]:
        return {"currentTime": _time(self.now())}

    def _start(self, _: Model) -> dict[str, Any]:
        self.last_transaction_id = next(self._transaction_ids)
        return {"idTagInfo": _ACCEPTED, "transactionId": self.last_transaction_id}

    def _stop(self, request: Model) -> dict[str, Any]:
        # idTagInfo answers the idTag the stop carries, if it carries one.
        return {"idTagInfo": _ACCEPTED} if getattr(request, "id_tag", None) is not None else {}

    _RESPONSES: Final[dict[str, Callable[[Answers, Model], dict[str, Any]]]] = {
        "Authorize": lambda _self, _request: {"idTagInfo": _ACCEPTED},
        "BootNotification": _boot,
        "DataTransfer": lambda _self, _request: {"status": "UnknownVendorId"},
        "DiagnosticsStatusNotification": lambda _self, _request: {},
        "FirmwareStatusNotification": lambda _self, _request: {},
        "Heartbeat": _heartbeat,
        "MeterValues": lambda _self, _request: {},
        "StartTransaction": _start,
        "StatusNotification": lambda _self, _request: {},
        "StopTransaction": _stop,
    }

    # Requests to the charge point ----------------------------------------------------------------

    def _reserve(self) -> dict[str, Any]:
        expiry = _time(self.now() + timedelta(hours=1))
        return {"connectorId": 1, "expiryDate": expiry, "idTag": _ID_TAG, "reservationId": 1}

    def _firmware(self) -> dict[str, Any]:
        location = "https://firmware.example.com/charge-point.bin"
        return {"location": location, "retrieveDate": _time(self.now())}

    def _remote_stop(self) -> dict[str, Any]:
        return {"transactionId": self.last_transaction_id or 1}

    _PROFILE: Final = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }

    _REQUESTS: Final[dict[str, Callable[[Answers], dict[str, Any]]]] = {
        "CancelReservation": lambda _self: {"reservationId": 1},
        "ChangeAvailability": lambda _self: {"connectorId": 0, "type": "Operative"},
        "ChangeConfiguration": lambda _self: {"key": "HeartbeatInterval", "value": "300"},
        "ClearCache": lambda _self: {},
        "ClearChargingProfile": lambda _self: {},
        "DataTransfer": lambda _self: {"vendorId": _VENDOR},
        "GetCompositeSchedule": lambda _self: {"connectorId": 1, "duration": 3600},
        "GetConfiguration": lambda _self: {},
        "GetDiagnostics": lambda _self: {"location": "ftp://diagnostics.example.com/uploads/"},
        "GetLocalListVersion": lambda _self: {},
        "RemoteStartTransaction": lambda _self: {"idTag": _ID_TAG, "connectorId": 1},
        "RemoteStopTransaction": _remote_stop,
        "ReserveNow": _reserve,
        "Reset": lambda _self: {"type": "Soft"},
        "SendLocalList": lambda _self: {"listVersion": 1, "updateType": "Full"},
        "SetChargingProfile": lambda self: {"connectorId": 1, "csChargingProfiles": self._PROFILE},
        "TriggerMessage": lambda _self: {"requestedMessage": "StatusNotification"},
        "UnlockConnector": lambda _self: {"connectorId": 1},
        "UpdateFirmware": _firmware,
    }
