"""The one exception type that reaches users as a plain sentence (CLI exit code 2)."""


class UserInputError(ValueError):
    """Bad input from the user: a missing file, a wrong shape, an unknown option.

    The message is one sentence naming the file or argument and what was expected.
    The CLI prints it and exits with code 2; library callers can catch it like any ValueError.
    """
