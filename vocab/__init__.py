"""vocab: the co-op's shared language.

Owns the ``rose:`` JSON-LD context and vocabulary document, the bundled
ActivityStreams and security contexts, an offline pyld document loader, and typed
builders and parsers for every activity and object we send or accept. Imports nothing
of ours.
"""
