"""demo: the co-op's market and calendar actors, for `make run` and integration tests.

Both are built only from our toolkit packages (actor/, inbox/, outbox/, vocab/,
store/), never from service/ or cart/: they prove that another co-op service can be
written on the same parts. Each runs as its own process (`python -m demo market|calendar`)
with its own SQLite file, keys and base URL, and federates with the cart over loopback
HTTP with real signatures.

- ``demo.node``: one demo actor's composition (database, keys, inbox, outbox, workers).
- ``demo.market``: products on two shop pages; an admin form and CLI to change them.
- ``demo.calendar``: bookable entries on a venue page; answers the cart's orders.
- ``demo.catalog``: the shared `catalog` collection and Create/Update/Delete publishing.
- ``demo.models``: the demo's own small tables (its own MetaData, created at start-up).
"""
