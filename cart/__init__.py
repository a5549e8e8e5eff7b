"""cart: the shop.

Owns the catalogue mirror, cart identity (sessions and accounts), cart lines, page
carts and Decimal totals, checkout, orders and their state machine, the shopper's web
UI (routes, Jinja templates, static files), fragments for other co-op services, and the
inbox handlers for market and calendar messages. Imports vocab, store, actor, outbox,
inbox (its handler registry only) and payments.

The domain API (what the web layer, checkout and service/ call)
----------------------------------------------------------------
Every function that touches the database takes the caller's `AsyncSession` (one unit
of work per request or task) and never commits. Times are aware UTC datetimes; `now`
arguments default to the current time and exist so tests can pin the clock.

Money (`cart.money`): `Money(amount: Decimal, currency: str)`, frozen; `Money.of("3.50",
"GBP")` (floats refused), `.format()` -> "£3.50" (symbols for GBP/EUR/USD, else
"3.50 CHF"), `.plain()` -> "3.50", `+`/`-`/`* int`; two currencies raise
`CurrencyMismatch`. `sum_by_currency(moneys) -> tuple[Money, ...]` (one per currency).

Catalogue mirror (`cart.catalog`, tables in `cart.catalog_models`):
- `list_catalog(session, now, *, page_key=None) -> tuple[CatalogSection, ...]`, each
  `CatalogSection(page: PageView | None, items: tuple[ItemView, ...])`; withdrawn items
  left out, unavailable ones included with `unavailable_reason`.
- `get_item(session, ap_id, now)`, `get_item_by_key(session, key, now) -> ItemView | None`
  (withdrawn ones too: `.withdrawn`); `get_page_by_key(session, key) -> PageView | None`;
  `items_by_id(session, {ap_id, ...}, now) -> dict[str, ItemView]`.
- `ItemView`: ap_id, key (32 hex chars, for URLs), kind ("product"|"entry"), ap_actor_id,
  name, summary, url, price: Money, page: PageView | None, stock, start_time, end_time,
  location, entry_state, withdrawn, unavailable_reason (None = buyable now);
  properties is_entry, purchasable, max_quantity (1 for entries, stock for products).
- `PageView(ap_id, key, name, url)`; `name` is never empty. `key_for(iri)` makes keys.
- Writes: `upsert_object(session, obj, *, sender, version, now, location=None)` and
  `withdraw_object(session, ap_id, *, sender, at)` -> `Outcome` (CREATED, UPDATED,
  STALE, REFUSED, WITHDRAWN, UNKNOWN).

Cart owners (`cart.carts`): `CartOwner.anonymous(cart_id)` or `CartOwner.account(id)`;
`new_cart_id()` (opaque, 43 chars); `adopt_cart(session, anonymous_cart_id,
account_id, *, now=None) -> list[str]` (sentences for the shopper about merges;
idempotent). Table `cart_lines` (model `CartLine`).

Cart lines (`cart.lines`), each raising `cart.exceptions` errors:
- `add_line(session, owner, item_ap_id, quantity=1, *, now=None) -> LineChange`
  (ItemNotFound, ItemNotAvailable with a shopper-ready `.message`, InvalidQuantity);
- `set_quantity(session, owner, line_id, quantity, *, now=None) -> LineChange` (0 removes);
- `accept_current_price(session, owner, line_id, *, now=None) -> LineChange`;
- `remove_line(session, owner, line_id) -> None`;
- all three raise `LineNotFound` (a `NotFound`: answer 404) for another owner's line
  id, before changing anything;
- `view_cart(session, owner, *, now=None, lock=False) -> CartView` (`lock=True` at
  checkout: the owner's lines are held FOR UPDATE until the transaction ends);
  `detach_lines(session, owner, line_ids) -> int` (checkout, after the order holds them);
  `cart_item_count(session, owner) -> int` (the badge; one query).
- `LineChange(line_id: int | None, quantity: int, notice: str | None)`: `notice` says
  what we did differently from what was asked ("Only 3 of Rye left, ...").

Cart views (`cart.totals`, pure): `CartView(owner, pages: tuple[PageCart, ...])` with
is_empty, item_count, has_problems, totals (per currency), `page(key)`;
`PageCart(key, page, lines, subtotals)` with name, ok_lines, problem_lines,
can_check_out, item_count (`key` is the page's catalogue key or `NO_PAGE_KEY`);
`LineView(id, item: ItemView, quantity, unit_price, status: LineStatus, message,
added_at)` with is_ok, current_price, line_total, max_quantity. `LineStatus`: OK,
PRICE_CHANGED, INSUFFICIENT_STOCK, UNAVAILABLE, WITHDRAWN; only OK lines count in
subtotals, and each subtotal is in one currency.

Federation and housekeeping:
- `cart.handlers.register_catalog_handlers(registry, *, clock=utcnow)`: Create/Update of
  Product (market peers) and CalendarEntry (calendar peers), Delete of either.
- `cart.backfill.backfill_catalog(db, fetcher, auth, actor_iri, *, role=None,
  progress=None) -> BackfillReport` (network: run it as a task, never in a handler).
- `cart.purge.purge_anonymous_lines(session, older_than=30 days, now=None) -> int`.
"""
