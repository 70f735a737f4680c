"""The one application-level error type.

Services raise ``PortalError`` with a translatable message; views turn it into
a form error or an HTTP 4xx, the API into a JSON error body.
"""


class PortalError(Exception):
    def __init__(self, message, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
