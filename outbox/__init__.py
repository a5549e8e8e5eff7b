"""outbox: what we tell others, reliably.

Owns followers and follows, the transactional ``publish()``, the delivery queue and
its worker (retries, backoff, circuit breaker), the outbox and followers collections,
and dereferenceable activities. Imports actor, vocab and store.

Modules: ``publish`` (publish(), new_activity_id), ``followers`` (follow handlers,
operator verbs, send_follow/send_undo_follow, register_follow_handlers), ``worker``
(DeliveryWorker), ``recorder`` (batched outcome writes), ``queue`` (claim, leases,
delivery_status/failed_deliveries/retry_deliveries), ``hosts`` (breaker state,
mark_contacted, mark_all_contacted), ``schedule`` (retry schedule and answer meanings, pure),
``states`` (declared state machines), ``collections`` (outbox_routes), ``models``
(tables), ``exceptions``.
"""
