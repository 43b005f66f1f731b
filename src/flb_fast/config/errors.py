"""Config problems carry the file, line and option so the user can find them at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    from flb_fast.config.model import Property


class ConfigError(Exception):
    """A config that must not start the agent: the command exits with ``exit_code``.

    ``hint`` is a line of help logged after the error, as Fluent Bit's ``[ help]`` lines.
    """

    exit_code = 1

    def __init__(self, file: str | None, line: int | None, option: str | None, message: str) -> None:
        self.file = file
        self.line = line
        self.option = option
        self.message = message
        self.hint: str | None = None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        option = f"'{self.option}': " if self.option and f"'{self.option}'" not in self.message else ""
        return f"{where}{option}{self.message}"


class UnknownOptionError(ConfigError):
    """A plugin section naming an option its plugin does not have, or one of its options twice.

    Fluent Bit's ``flb_start`` fails with -1 on these, so ``fluent-bit`` exits with 255.
    """

    exit_code = 255


class ConfigErrors(ConfigError):
    """Every error one pass over a config found, so the user can fix them all at once.

    It reads as its first error; ``errors`` holds all of them and ``warnings`` what the pass
    would have warned about.
    """

    def __init__(self, errors: list[ConfigError], warnings: list[ConfigWarning]) -> None:
        first = errors[0]
        super().__init__(first.file, first.line, first.option, first.message)
        self.errors = errors
        self.warnings = warnings
        self.exit_code = first.exit_code


class PluginConfigError(Exception):
    """Raised by a plugin constructor about one of its options; the loader adds file:line.

    ``prop`` names the exact line when the option repeats (one bad rule among several).
    """

    def __init__(self, option: str | None, message: str, prop: Property | None = None) -> None:
        self.option = option
        self.message = message
        self.prop = prop
        super().__init__(message)


class ConfigWarning(Struct, frozen=True):
    """Something the agent tolerates but the user should fix (an unknown or unsupported option)."""

    file: str | None
    line: int | None
    option: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        return f"{where}{self.message}"
