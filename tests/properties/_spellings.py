"""Hypothesis strategies for the documented spellings of a stored state.

The words come from the documentation (README: "``1 yes y true t on`` mean on,
``0 no n false f off`` or unset mean off, case-insensitive"; ``parse_state``:
"ignoring surrounding whitespace", "or an empty value"), not from the library.
"""

from __future__ import annotations

from hypothesis import strategies as st

TRUTHY_WORDS: tuple[str, ...] = ("1", "yes", "y", "true", "t", "on")
FALSY_WORDS: tuple[str, ...] = ("0", "no", "n", "false", "f", "off")

# Whitespace nobody would dispute: ASCII blanks and two common Unicode spaces.
PLAIN_WHITESPACE = " \t\n\r\x0b\x0c\xa0\u3000"


@st.composite
def any_case(draw: st.DrawFn, word: str) -> str:
    """*word* with each letter drawn in lower or upper case."""
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(ch.upper() if flip else ch for ch, flip in zip(word, flips, strict=True))


@st.composite
def spellings(draw: st.DrawFn, words: tuple[str, ...] = TRUTHY_WORDS + FALSY_WORDS) -> str:
    """A documented word in any case, with any surrounding whitespace."""
    word = draw(any_case(draw(st.sampled_from(words))))
    blank = st.text(alphabet=PLAIN_WHITESPACE, max_size=3)
    return draw(blank) + word + draw(blank)


@st.composite
def spelled_states(draw: st.DrawFn) -> tuple[str, bool]:
    """A spelling together with the state it documents."""
    value = draw(st.booleans())
    return draw(spellings(TRUTHY_WORDS if value else FALSY_WORDS)), value
