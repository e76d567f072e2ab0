"""The order of outbound delivery states: status webhooks only ever move a message forward."""

from __future__ import annotations

from .models import Message

S = Message.Status

# queued → sending → sent → delivered → read. `failed` and `unconfirmed` leave the line: only a
# person's Retry (back to queued) or a gateway status proving delivery moves them again.
FORWARD_ORDER = [S.QUEUED, S.SENDING, S.SENT, S.DELIVERED, S.READ]
RANK = {status: index for index, status in enumerate(FORWARD_ORDER)}


def is_forward(current: str, new: str) -> bool:
    """True when `new` is later than `current` in the delivery line (sent → delivered …)."""
    if current in (S.FAILED, S.UNCONFIRMED):
        # A gateway saying sent/delivered/read proves the message went out after all.
        return new in (S.SENT, S.DELIVERED, S.READ)
    if new in (S.FAILED,):
        return current in (S.QUEUED, S.SENDING, S.SENT)
    return RANK.get(new, -1) > RANK.get(current, -1)
