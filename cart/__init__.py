"""cart: the shop.

Owns the catalogue mirror, cart identity (sessions and accounts), cart lines, page
carts and Decimal totals, checkout, orders and their state machine, the shopper's web
UI (routes, Jinja templates, static files), fragments for other co-op services, and the
inbox handlers for market and calendar messages. Imports vocab, store, actor, outbox,
inbox (its handler registry only) and payments.
"""
