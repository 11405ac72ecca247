"""The one exception type the CLI turns into a readable message (no traceback)."""


class DevstackError(Exception):
    """Something the user can fix; str() says what went wrong and where to look."""
