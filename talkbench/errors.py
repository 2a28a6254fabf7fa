"""User-facing errors: the CLI prints them as one line, without a traceback."""


class TalkbenchError(Exception):
    """An error whose message alone tells the user what went wrong and what to do."""


class WeightsMissing(TalkbenchError):
    """A pretrained asset is not on disk; the message names the file, the places searched
    and the command that fetches it."""
