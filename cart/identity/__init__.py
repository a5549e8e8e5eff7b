"""cart.identity: who the shopper is: accounts with argon2id passwords, server-side sessions.

Knows nothing of the catalogue, carts or orders; the web layer ties a session to a cart.
"""
