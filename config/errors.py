"""The one application-level error type.

Services raise ``PortalError`` with a translatable message; views turn it into
a form error or an HTTP 4xx, the API into a JSON error body with ``status``
(400 unless the service says otherwise, e.g. 409 for a conflict with the
stored state).
"""


class PortalError(Exception):
    def __init__(
        self, message, *, code: str = "invalid", field: str | None = None, status: int = 400
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status

    def __str__(self) -> str:
        return str(self.message)
