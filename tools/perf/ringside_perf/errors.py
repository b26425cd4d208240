"""Errors that end the tool with a message naming the flag or input at fault."""


class UsageError(Exception):
    """A bad flag or flag combination: the tool exits 2 with this message."""


class ToolError(Exception):
    """Something the run needs failed (perf missing, process gone): exit 1 with this message."""
