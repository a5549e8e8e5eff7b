"""Errors of the actor package.

ActorError
├── KeyUnsealError        a stored private key cannot be opened with this SECRET_KEY
├── NotAcceptable         the client accepts none of the representations we serve
├── FetchError            a remote document could not be fetched, or not trusted
│   ├── BlockedAddress    the host is not public (SSRF guard) or cannot be resolved
│   ├── FetchFailed       network error, timeout, unexpected status, or not a JSON object
│   ├── TooManyRedirects  more redirects than allowed
│   ├── RedirectLoop      a redirect leads back to a URL already visited
│   ├── NotActivityStreams  the answer's content type is not AS2
│   ├── IdMismatch        the document's id is not the URL it was fetched from
│   └── DocumentTooLarge  the answer is larger than the cap
├── ProofError            a Data Integrity proof (FEP-8b32) cannot be made or does not verify
└── SignatureError        an HTTP signature cannot be made or read
    ├── MalformedSignature  a signature, signature-input or date header cannot be parsed
    └── MissingComponent    a component the signature covers is absent from the message
"""


class ActorError(Exception):
    pass


class KeyUnsealError(ActorError):
    pass


class NotAcceptable(ActorError):
    pass


class FetchError(ActorError):
    """Carries the URL being fetched when it went wrong."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url


class BlockedAddress(FetchError):
    pass


class FetchFailed(FetchError):
    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(url, message)
        self.status = status


class TooManyRedirects(FetchError):
    pass


class RedirectLoop(FetchError):
    pass


class NotActivityStreams(FetchError):
    pass


class IdMismatch(FetchError):
    pass


class DocumentTooLarge(FetchError):
    pass


class ProofError(ActorError):
    pass


class SignatureError(ActorError):
    pass


class MalformedSignature(SignatureError):
    pass


class MissingComponent(SignatureError):
    """Carries the name of the absent component (a header name or an `@` component)."""

    def __init__(self, component: str) -> None:
        super().__init__(f"the signature covers {component!r}, which the message does not carry")
        self.component = component
