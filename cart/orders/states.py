"""The order's declared state machines: the order itself and each calendar claim.

Declared once here and enforced by `cart.orders.orders.transition` (which also does the
conditional UPDATE that makes a move happen exactly once between concurrent callers).
The graph is checked when this module is imported (store.states.StateMachine: every
target declared, every state reachable), and a move not declared raises
`store.exceptions.IllegalTransition` instead of silently overwriting a status.

Order:

    pending ──> paid ──> refund_requested ──> refunded
       │          └────────────────────────────^   │
       ├──> expired ──┐                            └──> needs_refund ──> refund_requested
       ├──> cancelled ├──> refund_requested (money arrived after the order was void)
       └──> failed ───┘                                   needs_refund ──> refunded

`refund_requested` is recorded where no network is allowed (inbox handlers, the
reconciler's decision) and carried out by the reconciler step; a refund the provider
refuses leaves `needs_refund`, which the operator sees.

Claim, per order item (a calendar entry's seats, a market product's units):

    requested ──> claimed ──> confirmed (order paid)
        │            └──────> released (order void)
        ├──> rejected (the calendar said no)
        └──> released
    confirmed ──> released (paid, then refunded because another calendar said no)
"""

from __future__ import annotations

import enum

from store.states import declare


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # placed, waiting for payment
    PAID = "paid"
    EXPIRED = "expired"  # not paid in time (checkout expired or past valid_until)
    CANCELLED = "cancelled"
    FAILED = "failed"  # a calendar refused before payment: no money taken
    REFUND_REQUESTED = "refund_requested"  # the reconciler will refund
    REFUNDED = "refunded"
    NEEDS_REFUND = "needs_refund"  # the refund failed: the operator must act

    @property
    def is_void(self) -> bool:
        return self in (OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED)

    @property
    def wire(self) -> str:
        """`orderStatus` on the wire (docs/protocol.md knows six values)."""
        if self in (OrderStatus.REFUND_REQUESTED, OrderStatus.NEEDS_REFUND):
            return OrderStatus.PAID.value
        return self.value


class ClaimState(enum.StrEnum):
    REQUESTED = "requested"  # our Create(Order) asks the calendar for the entry
    CLAIMED = "claimed"  # the calendar accepted
    REJECTED = "rejected"  # the calendar refused
    CONFIRMED = "confirmed"  # claimed and paid
    RELEASED = "released"  # the order is void; the entry is free again


_S = OrderStatus
ORDER = declare(
    "order",
    _S.PENDING,
    {
        _S.PENDING: {_S.PAID, _S.EXPIRED, _S.CANCELLED, _S.FAILED},
        _S.PAID: {_S.REFUND_REQUESTED, _S.REFUNDED},
        _S.EXPIRED: {_S.REFUND_REQUESTED},
        _S.CANCELLED: {_S.REFUND_REQUESTED},
        _S.FAILED: {_S.REFUND_REQUESTED},
        _S.REFUND_REQUESTED: {_S.REFUNDED, _S.NEEDS_REFUND},
        _S.NEEDS_REFUND: {_S.REFUND_REQUESTED, _S.REFUNDED},
        _S.REFUNDED: set(),
    },
)

_C = ClaimState
CLAIM = declare(
    "calendar claim",
    _C.REQUESTED,
    {
        _C.REQUESTED: {_C.CLAIMED, _C.REJECTED, _C.RELEASED},
        _C.CLAIMED: {_C.CONFIRMED, _C.RELEASED},
        _C.CONFIRMED: {_C.RELEASED},
        _C.REJECTED: set(),
        _C.RELEASED: set(),
    },
)
