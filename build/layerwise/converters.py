"""The converters settings and figure options share: each takes a value and returns it checked, or
raises ValueError saying what it takes ("a whole number from 1 to 20"), which the caller puts in
one line naming the file and key. Settings pass TOML's typed values; a figure's option or a link's
view key is text, parsed first (`parsed`) where a converter wants a number. Each also says what
it takes as a small JSON schema (its `schema`: {"type": "int", "min": 0, "max": 50}), which the
page decodes a link by (templates/link-state.js): a range or a choice is declared once, here."""

from collections.abc import Callable

from .errors import did_you_mean


def described(schema: dict) -> Callable:
    """Marks a converter with its schema: a type (int, number, choice, flag, text, list, or the
    name of a codec the widget brings) and its bounds: min/max inclusive, above/below exclusive."""

    def mark(convert: Callable) -> Callable:
        convert.schema = schema
        return convert

    return mark


def parsed(kind: type, value):
    """`value` (text) as a `kind`, or unchanged where it is not one: the converter it goes to then
    says what it takes."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        return value


def whole(low: int, high: int) -> Callable:
    @described({"type": "int", "min": low, "max": high})
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    return convert


def number(low: float, high: float) -> Callable:
    @described({"type": "number", "above": low, "max": high})
    def convert(value):
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise ValueError(f"a number above {low} and at most {high}")
        return float(value)

    return convert


@described({"type": "text"})
def text(value):
    if not isinstance(value, str):
        raise ValueError("text in quotes")
    return value


@described({"type": "flag"})
def flag(value):
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def switch(off: str, on: str) -> Callable:
    """A flag written as text, `off` or `on` (a link writes 0 or 1) -> False or True."""

    @described({"type": "flag", "off": off, "on": on})
    def convert(value) -> bool:
        if value not in (off, on):
            raise ValueError(f"{off} or {on}")
        return value == on

    return convert


def not_one_of(value: str, known, what: str = "") -> ValueError:
    """'[WHAT: ]one of A, B (did you mean A?)' for a value not among `known` (as the file writes them)."""
    close = did_you_mean(value, known).removeprefix("; ")
    return ValueError(f"{what + ': ' if what else ''}one of {', '.join(known)}" + (f" ({close})" if close else ""))


def choice(*allowed, written: Callable = repr) -> Callable:
    """One of `allowed`; the error shows each as the file writes it (TOML quotes text: repr; a
    directive does not: str)."""

    @described({"type": "choice", "values": list(allowed)})
    def convert(value):
        if value not in allowed:
            raise not_one_of(written(value), [written(a) for a in allowed])
        return value

    return convert


def list_of(item: Callable, what: str, allow_auto: bool = False) -> Callable:
    def convert(value):
        if allow_auto and value == "auto":
            return value
        if not isinstance(value, list):
            raise ValueError(f"a list of {what}" + (' or "auto"' if allow_auto else "") + ', e.g. ["a", "b"]')
        return [item(v) for v in value]

    return convert


def size(value):
    if value == []:
        return value
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ValueError("[height, width] in pixels, e.g. [32, 32]")
    return value


@described({"type": "list", "of": {"type": "number"}})
def numbers(value: str) -> list[float]:
    """Numbers written as text, separated by commas: "0.5,-1"."""
    try:
        return [float(part) for part in value.split(",")]
    except ValueError:
        raise ValueError("numbers separated by commas") from None
