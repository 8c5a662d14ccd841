"""User-facing errors: the CLI prints their message (no traceback) and exits non-zero."""


class SpotrecError(Exception):
    """A failure the user can act on; the message says what happened and what to do."""

    exit_code = 2
