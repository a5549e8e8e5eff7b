"""cart: the shop, in one room per job.

Imports vocab, store, actor, outbox, inbox (its read API, inbox.log, only), payments and
mail.
Inside, the rooms, and the only arrows between them (docs/design.md; enforced by
tests/test_import_rules.py):

- `exceptions`: the shopper-facing errors; imports no room. `locale`: how dates, times
  and money read for people (Babel, time zones); imports no room. `money`: the Money
  value object; may import exceptions, locale.
- `catalog/`: the mirror of peers' products and entries, its backfill, its inbox
  handlers. May import money, exceptions.
- `identity/`: accounts, passwords, server-side sessions. May import exceptions.
- `basket/`: cart owners, cart lines, page carts and totals, purging old carts. May
  import catalog, money, exceptions.
- `orders/`: checkout, orders and their state machine, claims, payment start,
  reconcile. May import basket, catalog, money, exceptions.
- `web/`: the shopper's pages, forms, CSRF, fragments, templates, static files. May
  import every room but admin.
- `admin/`: the operator's pages. May import every room.

Every function that touches the database takes the caller's session (one unit of work
per request or task) and never commits; each room's modules say what they offer.
"""
