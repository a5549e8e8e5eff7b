"""cart.orders: from a page cart to a paid (or refunded) order.

`checkout` turns a page cart into an order in one transaction and publishes it;
`models` and `states` are the orders' tables and declared state machine; `orders`
reads and moves them; `claims` applies calendars' and markets' Accept/Reject; `stock`
counts our unanswered orders against a market's stock at checkout; `payment` starts a
provider checkout; `reconcile` is the one idempotent way a payment's state reaches us;
`cancel` lets the shopper call off an unpaid order.
"""
