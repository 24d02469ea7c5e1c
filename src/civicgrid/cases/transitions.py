"""The case state machine as one explicit table: (state, action) -> next state. A pair that is not in
the table is refused. Who may take an action is a separate question (services.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.core.errors import Conflict

STATES: tuple[str, ...] = ("reported", "registered", "dispatched", "handled", "verified", "closed", "dismissed")
ACTIONS: tuple[str, ...] = ("register", "dismiss", "dispatch", "transfer", "handle", "reopen", "verify",
                            "close", "rate", "escalate")
OPEN_STATES = frozenset({"reported", "registered", "dispatched"})  # still waiting for handling: escalates

TRANSITIONS: dict[tuple[str, str], str] = {
    ("reported", "register"): "registered",
    ("reported", "dismiss"): "dismissed",
    ("reported", "escalate"): "reported",
    ("registered", "dispatch"): "dispatched",
    ("registered", "dismiss"): "dismissed",
    ("registered", "escalate"): "registered",
    ("dispatched", "transfer"): "dispatched",   # to another handler, with a reason
    ("dispatched", "handle"): "handled",
    ("dispatched", "escalate"): "dispatched",
    ("handled", "verify"): "verified",
    ("handled", "reopen"): "dispatched",        # verification failed: back to the handler, with a reason
    ("verified", "close"): "closed",
    ("closed", "rate"): "closed",
}

ACTION_LABELS = {
    "register": gettext_lazy("register"), "dismiss": gettext_lazy("dismiss"), "dispatch": gettext_lazy("dispatch"),
    "transfer": gettext_lazy("transfer"), "handle": gettext_lazy("mark handled"),
    "reopen": gettext_lazy("send back"), "verify": gettext_lazy("verify"), "close": gettext_lazy("close"),
    "rate": gettext_lazy("rate"), "escalate": gettext_lazy("escalate"), "report": gettext_lazy("report"),
}
# Actions that must say why.
NEEDS_REASON = frozenset({"dismiss", "transfer", "reopen"})


class InvalidTransition(Conflict):
    """An action the case's state does not allow (HTTP 409 in the API, a message on the page)."""

    def __init__(self, *, state: str, action: str) -> None:
        from civicgrid.cases.models import STATE_LABELS

        self.state, self.action = state, action
        super().__init__(_("A case that is %(state)s cannot be given the action '%(action)s'.") % {
            "state": STATE_LABELS.get(state, state), "action": ACTION_LABELS.get(action, action)})


def next_state(state: str, action: str) -> str:
    """The state after ``action``, or InvalidTransition."""
    if state not in STATES:
        raise ValueError(f"unknown case state {state!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown case action {action!r}")
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state=state, action=action) from None


def allowed_actions(state: str) -> list[str]:
    return [action for action in ACTIONS if (state, action) in TRANSITIONS]
