"""cart.catalog: the mirror of what the co-op's markets and calendars offer.

`mirror` reads and writes the mirrored products, entries and pages (`models`);
`handlers` are the inbox handlers that keep it current from peers' deliveries;
`backfill` and `backfill_jobs` refill it from a peer's outbox when a follow is accepted.
Knows nothing of carts or orders.
"""
