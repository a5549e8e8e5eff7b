"""outbox: what we tell others, reliably.

Owns followers and follows, the transactional ``publish()``, the delivery queue and
its worker (retries, backoff, circuit breaker), the outbox and followers collections,
and dereferenceable activities. Imports actor, vocab and store.
"""
