"""GetDiagnostics and UpdateFirmware, simulated without a transfer: their status sequences.

Diagnostics: Uploading at once, then Uploaded ``UPLOAD_S`` later (UploadFailed for a location no
transfer would reach: a scheme other than ftp, ftps, http, https or sftp), then Idle again.
Firmware: Downloading at retrieveDate, Downloaded (DownloadFailed) ``DOWNLOAD_S`` later,
Installing as soon as no transaction runs, Installed ``INSTALL_S`` later; then the charge point
reboots with the next firmware version.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from ocpp16._generated.enums import DiagnosticsStatus, FirmwareStatus

__all__ = ["DOWNLOAD_S", "INSTALL_S", "TRANSFER_SCHEMES", "UPLOAD_S", "Transfers", "next_version"]

UPLOAD_S: Final = 5
DOWNLOAD_S: Final = 10
INSTALL_S: Final = 10
TRANSFER_SCHEMES: Final = ("ftp://", "ftps://", "http://", "https://", "sftp://")

F = FirmwareStatus


class Transfers:
    """Where the diagnostics upload and the firmware update stand, and what is due next."""

    __slots__ = ("_diagnostics_done", "_firmware_ok", "_firmware_step", "diagnostics", "firmware")

    def __init__(self) -> None:
        self.diagnostics = DiagnosticsStatus.IDLE
        self.firmware = F.IDLE
        self._diagnostics_done: tuple[datetime, DiagnosticsStatus] | None = None
        self._firmware_step: tuple[datetime, FirmwareStatus] | None = None
        self._firmware_ok = True

    def start_diagnostics(self, location: str, now: datetime) -> DiagnosticsStatus:
        """An upload starts; the status to report now (Uploading)."""
        ok = location.lower().startswith(TRANSFER_SCHEMES)
        self.diagnostics = DiagnosticsStatus.UPLOADING
        final = DiagnosticsStatus.UPLOADED if ok else DiagnosticsStatus.UPLOAD_FAILED
        self._diagnostics_done = (now + timedelta(seconds=UPLOAD_S), final)
        return self.diagnostics

    def start_firmware(self, location: str, at: datetime) -> None:
        """An update starts downloading at ``at`` (driver time)."""
        self._firmware_ok = location.lower().startswith(TRANSFER_SCHEMES)
        self._firmware_step = (at, F.DOWNLOADING)

    def next_at(self, transaction_running: bool) -> list[datetime]:
        """When a step falls due (an installation waiting for transactions to end has no time:
        the end of the last one brings it on)."""
        times = [self._diagnostics_done[0]] if self._diagnostics_done else []
        step = self._firmware_step
        if step is not None and not (step[1] == F.INSTALLING and transaction_running):
            times.append(step[0])
        return times

    def diagnostics_due(self, now: datetime) -> DiagnosticsStatus | None:
        """The upload's final status when it is due now."""
        if self._diagnostics_done is None or now < self._diagnostics_done[0]:
            return None
        final = self._diagnostics_done[1]
        self._diagnostics_done = None
        self.diagnostics = DiagnosticsStatus.IDLE
        return final

    def firmware_due(self, now: datetime, transaction_running: bool) -> FirmwareStatus | None:
        """The firmware status entered now, if any (Installed means: reboot now)."""
        step = self._firmware_step
        if step is None or now < step[0]:
            return None
        status = step[1]
        if status == F.INSTALLING and transaction_running:
            return None  # installs once no transaction runs (polled again when one ends)
        downloaded = F.DOWNLOADED if self._firmware_ok else F.DOWNLOAD_FAILED
        following = {
            F.DOWNLOADING: (DOWNLOAD_S, downloaded),
            F.DOWNLOADED: (0, F.INSTALLING),
            F.INSTALLING: (INSTALL_S, F.INSTALLED),
        }.get(status)
        if following is None:
            self._firmware_step = None
            self.firmware = F.IDLE
        else:
            self.firmware = status
            self._firmware_step = (now + timedelta(seconds=following[0]), following[1])
        return status


def next_version(version: str) -> str:
    """The firmware version after an update: the last number one higher (1.0.0 -> 1.0.1)."""
    head, _, last = version.rpartition(".")
    if last.isdigit():
        return f"{head}.{int(last) + 1}" if head else str(int(last) + 1)
    return f"{version[:48]}.1"
