"""Text as tokens: Unicode code points, each an index into a vocabulary built from the training split.

(The page half's stand-in until the text-model half's module, which defines the text source kind,
is merged: only `tokenize`, as the shared interface of #24 defines it.)
"""


def tokenize(text: str, vocabulary: list[str], unknown: int | None) -> list[int]:
    """Each code point's index in `vocabulary`; a character not in it is `unknown`."""
    index = {character: i for i, character in enumerate(vocabulary)}
    return [index.get(character, unknown) for character in text]
