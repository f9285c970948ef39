"""Errors the core raises; each carries a message fit to show a member or an operator."""

from __future__ import annotations


class DosewiseError(Exception):
    """Base of every error the bot reports to a person rather than a traceback."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class NotAModerator(DosewiseError):
    """A review action was attempted by someone who is not a moderator."""

    def __init__(self, user_message: str = "Only moderators can review flags.") -> None:
        super().__init__(user_message)


class FlagNotFound(DosewiseError):
    """No flag has the given id."""

    def __init__(self, flag_id: int | str) -> None:
        super().__init__(f"There is no flag #{flag_id}.")
        self.flag_id = flag_id


class FlagAlreadyReviewed(DosewiseError):
    """The flag was already upheld or dismissed; a second review changes nothing."""

    def __init__(self, flag_id: int, status: str, by: str = "") -> None:
        who = f" by {by}" if by else ""
        super().__init__(f"Flag #{flag_id} was already {status}{who}; nothing changed.")
        self.flag_id = flag_id
        self.status = status


class ConfigError(DosewiseError):
    """A configuration file or value is wrong; `problems` lists `FILE: key: what is wrong` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ContentError(DosewiseError):
    """The `responses/` tree is invalid; `problems` lists `FILE: key: what is wrong` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class RulePackError(DosewiseError):
    """A detector rule pack is invalid; the message names the file and the rule id."""


class StoreError(DosewiseError):
    """The database cannot be used (corrupt, wrong version, unreachable); the message names the file."""


class StoreUnavailable(StoreError):
    """The database is there but cannot be written right now (locked, busy, disk full); retry later."""


class InputError(DosewiseError):
    """A file or value given on the command line cannot be used; the message names it (and the line)."""
