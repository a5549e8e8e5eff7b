"""service: composition only.

Owns the one settings object, the app factory that wires every package together
(routes, inbox handlers, background loops), the error handler, logging, and the
`rose-cart` command line. May import everything; nothing imports it.
"""
