"""actor: who we are and how others can trust us.

Owns our identity: key pairs (generation, sealed storage, rotation), the actor
document, WebFinger, host-meta, NodeInfo and content negotiation; HTTP signatures (a
pure sign/verify core, an ``httpx.Auth`` and a request adapter); and the fetching of
remote actors and keys with a cache and an SSRF guard. Imports vocab and store.
"""
