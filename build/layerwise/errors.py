class BuildError(Exception):
    """A mistake the user can fix (config, content, data): printed as one line, no traceback."""
