"""vocab: the co-op's shared language.

Owns the ``rose:`` JSON-LD context and vocabulary document, the bundled
ActivityStreams and security contexts, an offline pyld document loader, and typed
builders and parsers for every activity and object we send or accept. Imports nothing
of ours.

Entry points:

- ``vocab.parse.parse(document) -> typed value`` (vocab/model.py); raises
  ``vocab.exceptions.ValidationError`` (``.path``, ``.message``) for anything outside the
  contract. Fast path when the ``@context`` gives our terms our meaning, else pyld
  compaction with ``vocab.loader.offline_loader`` (never fetches).
- ``vocab.builders``: one function per activity we send, returning the JSON document;
  ``vocab.writer.document(value)`` for any typed value.
- ``vocab.contexts``: the bundled contexts, ``outgoing_context()``,
  ``rose_context_document()`` (served at /ns as application/ld+json).
- ``vocab.ns_page``: ``render_ns_page()`` (the /ns HTML) and ``nodeinfo_metadata()``.
"""
