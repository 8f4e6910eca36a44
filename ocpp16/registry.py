"""Looking actions up by the names users type."""

from __future__ import annotations

import difflib

from ocpp16._action import Action, Sender
from ocpp16._generated.actions import ACTIONS
from ocpp16.errors import UnknownAction

__all__ = ["ACTIONS", "Action", "Sender", "resolve_action"]

_BY_FOLDED = {name.lower(): action for name, action in ACTIONS.items()}


def resolve_action(name: str) -> Action:
    """The action named ``name`` in any case, with or without a ``Request`` suffix:
    ``BootNotification``, ``bootnotification`` and ``BootNotificationRequest`` all work."""
    folded = name.strip().lower()
    for suffix in ("request", ".req"):
        if folded.endswith(suffix) and folded.removesuffix(suffix) in _BY_FOLDED:
            folded = folded.removesuffix(suffix)
    action = _BY_FOLDED.get(folded)
    if action is None:
        close = difflib.get_close_matches(folded, list(_BY_FOLDED), n=3, cutoff=0.6)
        raise UnknownAction(name, [_BY_FOLDED[c].name for c in close])
    return action
