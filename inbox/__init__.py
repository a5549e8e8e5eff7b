"""inbox: how other servers' deliveries get in.

Owns the inbox endpoints (size and type limits, signature verification, parsing,
origin checks, dedupe, persist-then-answer), the handler registry that other packages
fill at composition time, and the inbox worker. Imports actor, vocab and store.
"""
