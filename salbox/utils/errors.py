"""Exceptions that speak to the user: tools print their message as one line, no traceback."""


class SalboxError(Exception):
    """A problem with the user's input (config, data, files): the message says what to fix."""


class DataError(SalboxError, ValueError):
    """Bad or inconsistent data: unpaired files, unreadable images, size mismatches."""


class DatasetNotFoundError(SalboxError, FileNotFoundError):
    """A data set folder is missing: the message says where it is expected and how to get it."""
