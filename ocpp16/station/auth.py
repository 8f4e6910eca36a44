"""Who may charge: the local authorization list and the authorization cache.

The local list is what the central system sends with SendLocalList (a full list, or a
differential update that adds, changes and removes entries), with its version. The cache
remembers the idTagInfo of every Authorize, StartTransaction and StopTransaction answer while
AuthorizationCacheEnabled is set, and ClearCache empties it. :meth:`Authorizer.lookup` answers
"what do we know of this idTag" from the list first, then the cache, with an expiry date past
counting as Expired; the station decides with it whether to skip Authorize (LocalPreAuthorize) or
to charge offline (LocalAuthorizeOffline, AllowOfflineTxForUnknownId).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Final

from ocpp16._generated.datatypes import IdTagInfo
from ocpp16._generated.enums import AuthorizationStatus, UpdateStatus, UpdateType
from ocpp16._generated.send_local_list import SendLocalListRequest

__all__ = ["MAX_CACHE_ENTRIES", "Authorizer"]

#: The authorization cache forgets its oldest entries beyond this many idTags.
MAX_CACHE_ENTRIES: Final = 1000


class Authorizer:
    """The local authorization list (with its version) and the authorization cache."""

    __slots__ = ("cache", "list_version", "local_list")

    def __init__(self) -> None:
        self.local_list: dict[str, IdTagInfo] = {}
        self.list_version = 0
        self.cache: OrderedDict[str, IdTagInfo] = OrderedDict()

    def lookup(
        self, id_tag: str, now: datetime, *, use_list: bool, use_cache: bool
    ) -> IdTagInfo | None:
        """The idTagInfo known locally (Expired when its expiry date has passed), or None."""
        info = self.local_list.get(id_tag) if use_list else None
        if info is None and use_cache:
            info = self.cache.get(id_tag)
        if info is None:
            return None
        if info.expiry_date is not None and info.expiry_date <= now:
            return IdTagInfo(status=AuthorizationStatus.EXPIRED, parent_id_tag=info.parent_id_tag)
        return info

    def remember(self, id_tag: str, info: IdTagInfo, *, enabled: bool) -> None:
        """Cache the central system's answer about ``id_tag`` (bounded, oldest first out)."""
        if not enabled:
            return
        self.cache[id_tag] = info
        self.cache.move_to_end(id_tag)
        while len(self.cache) > MAX_CACHE_ENTRIES:
            self.cache.popitem(last=False)

    def clear_cache(self) -> None:
        self.cache.clear()

    def send_local_list(
        self, request: SendLocalListRequest, *, max_length: int, max_per_message: int
    ) -> UpdateStatus:
        """Apply SendLocalList; the status to answer.

        Full: the list becomes the entries given (every entry needs its idTagInfo). Differential:
        entries with an idTagInfo are added or replaced, entries without one removed, and the
        version must be newer than the one held (VersionMismatch otherwise). Either fails, and
        changes nothing, when it carries more than SendLocalListMaxLength entries or leaves more
        than LocalAuthListMaxLength.
        """
        entries = request.local_authorization_list or []
        if len(entries) > max_per_message or request.list_version < 0:
            return UpdateStatus.FAILED
        if request.update_type == UpdateType.FULL:
            if any(entry.id_tag_info is None for entry in entries):
                return UpdateStatus.FAILED
            new = {e.id_tag: e.id_tag_info for e in entries if e.id_tag_info is not None}
        else:
            if request.list_version <= self.list_version:
                return UpdateStatus.VERSION_MISMATCH
            new = dict(self.local_list)
            for entry in entries:
                if entry.id_tag_info is None:
                    new.pop(entry.id_tag, None)
                else:
                    new[entry.id_tag] = entry.id_tag_info
        if len(new) > max_length:
            return UpdateStatus.FAILED
        self.local_list = new
        self.list_version = request.list_version
        return UpdateStatus.ACCEPTED
