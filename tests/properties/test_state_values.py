"""Stored text values: which spellings mean on or off, and the state file.

The reference is :func:`documented_state`, written from the documentation:
``1 yes y true t on`` mean on, ``0 no n false f off`` or an empty value mean
off, case-insensitively and ignoring surrounding whitespace; everything else is
an :class:`InvalidStateValueError`. The same words hold for the environment
variable and for the state file. ``LocalFileBackend`` must give back what was
last stored, by itself or by another process, and a reader must never see a
half-written file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest
from fastapi_maintenance.backends import EnvVarBackend, LocalFileBackend
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from maintenance_core.backends import parse_state
from maintenance_core.errors import InvalidStateValueError, StateFileMissingError

from ._spellings import FALSY_WORDS, TRUTHY_WORDS, spelled_states, spellings

ENV_VAR = "PROPERTIES_STATE_VALUE"
STATE_FILE = "state.txt"

_SURROUNDED = re.compile(r"\s*(.*?)\s*", re.DOTALL)


def documented_state(raw: str) -> bool | None:
    """The state a stored text documents, or ``None`` when it documents none."""
    match = _SURROUNDED.fullmatch(raw)
    assert match is not None
    core = match.group(1)
    # Case-insensitive over the documented (ASCII) words.
    if not core.isascii():
        return None
    word = core.lower()
    if word in TRUTHY_WORDS:
        return True
    if word in FALSY_WORDS or word == "":
        return False
    return None


# --- strategies ----------------------------------------------------------------------------

# Characters that make near misses: letters of the words, digits, blanks, punctuation,
# and non-ASCII look-alikes (Turkish dotless i, long s, Kelvin sign, fullwidth letters).
_NEAR_ALPHABET = "aefilnorstuyAEFILNORSTUY0123456789 \t\n._-+'\"\x00\u0131\u017f\u212a\uff4f\uff4e"


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A documented spelling with one character inserted, removed or replaced."""
    text = draw(spellings())
    position = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["insert", "remove", "replace"]))
    char = draw(st.sampled_from(_NEAR_ALPHABET))
    if edit == "insert":
        return text[:position] + char + text[position:]
    if edit == "remove":
        return text[:position] + text[position + 1 :]
    return text[:position] + char + text[position + 1 :]


stored_texts = st.one_of(
    spellings(),
    near_misses(),
    st.text(alphabet=_NEAR_ALPHABET, max_size=8),
    st.text(max_size=12),
)

# What an environment variable or a UTF-8 file can hold. Backends also read a JSON
# object (a state with a window or a bypass secret, docs/backends.md); that form is
# left out here: these tests are about the words.
portable_texts = (
    stored_texts.filter(lambda text: "\x00" not in text)
    .map(lambda text: "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF))
    .filter(lambda text: not text.strip().startswith("{"))
)


def label(raw: str) -> bool | None:
    expected = documented_state(raw)
    event({True: "documents on", False: "documents off", None: "documents nothing"}[expected])
    return expected


def check_parse(raw: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(InvalidStateValueError) as caught:
            parse_state(raw)
        assert caught.value.raw == raw
        assert isinstance(caught.value, ValueError)
    else:
        assert parse_state(raw) is expected


# --- parse_state ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(spelled=spelled_states())
def test_every_documented_spelling_parses(spelled: tuple[str, bool]) -> None:
    raw, value = spelled
    assert parse_state(raw) is value


@settings(max_examples=500, deadline=None, database=None)
@given(raw=stored_texts)
def test_parse_state_accepts_exactly_the_documented_spellings(raw: str) -> None:
    check_parse(raw, label(raw))


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_an_empty_value_means_off(raw: str) -> None:
    assert documented_state(raw) is False
    assert parse_state(raw) is False


# --- the same words through the backends ---------------------------------------------------


@settings(max_examples=150, deadline=None, database=None)
@given(raw=st.none() | portable_texts)
def test_env_backend_reads_the_documented_words(raw: str | None) -> None:
    expected = False if raw is None else label(raw)
    with pytest.MonkeyPatch.context() as mp:
        if raw is None:
            mp.delenv(ENV_VAR, raising=False)
        else:
            mp.setenv(ENV_VAR, raw)
        backend = EnvVarBackend(ENV_VAR)
        # As in 0.0.5: an unrecognised value reads as off (with a warning), never raises.
        assert anyio.run(backend.get_value) is bool(expected)
        assert anyio.run(backend.read_state_now).is_on_now() is bool(expected)


@settings(max_examples=150, deadline=None, database=None)
@given(raw=st.none() | portable_texts)
def test_file_backend_reads_the_documented_words(
    raw: str | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("words") / STATE_FILE
    expected = False if raw is None else label(raw)
    if raw is not None:
        path.write_bytes(raw.encode("utf-8"))
    backend = LocalFileBackend(path, check_interval=0)
    for _ in range(2):  # the second read comes from memory or from a cached error
        if expected is None:
            with pytest.raises(InvalidStateValueError):
                anyio.run(backend.get_value)
        else:
            assert anyio.run(backend.get_value) is expected


# --- the state file as a store -------------------------------------------------------------


class StateFileMachine(RuleBasedStateMachine):
    """One state file, two ``LocalFileBackend`` objects on it (this process and
    another one, both with ``check_interval=0``), and other tools that replace
    or delete the file. Each read must give the state of the file's current text.
    """

    backends = Bundle("backends")

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="state-file-machine-"))
        self.path = self.directory / STATE_FILE
        self.text: str | None = None  # the model: the file's text, None when missing
        # Per backend object: whether it has read a state from the file or written one;
        # from then on a missing or blank file is a fault, not "off".
        self.seen: dict[int, bool] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    @rule(target=backends)
    def open_backend(self) -> LocalFileBackend:
        backend = LocalFileBackend(self.path, check_interval=0)
        self.seen[id(backend)] = False
        return backend

    @rule(backend=backends, value=st.booleans())
    def set_value(self, backend: LocalFileBackend, value: bool) -> None:
        anyio.run(backend.set_value, value)
        self.text = "1" if value else "0"
        self.seen[id(backend)] = True

    @rule(backend=backends)
    def get_value(self, backend: LocalFileBackend) -> None:
        blank = self.text is None or not self.text.strip()
        if blank and self.seen[id(backend)]:
            with pytest.raises(StateFileMissingError):
                anyio.run(backend.get_value)
            return
        expected = False if self.text is None else documented_state(self.text)
        if expected is None:
            with pytest.raises(InvalidStateValueError):
                anyio.run(backend.get_value)
        else:
            assert anyio.run(backend.get_value) is expected
            self.seen[id(backend)] = self.seen[id(backend)] or not blank

    @rule(text=st.one_of(spellings(), near_misses()).filter(lambda t: "\x00" not in t))
    def another_tool_replaces_the_file(self, text: str) -> None:
        # The way careful tools (and this library) write: a new file renamed over the old.
        fd, name = tempfile.mkstemp(dir=self.directory, prefix=".tool-")
        with os.fdopen(fd, "wb") as file:
            file.write(text.encode("utf-8"))
        os.replace(name, self.path)
        self.text = text

    @precondition(lambda self: self.text is not None)
    @rule()
    def another_tool_deletes_the_file(self) -> None:
        self.path.unlink()
        self.text = None

    @invariant()
    def the_file_holds_what_was_stored(self) -> None:
        assert sorted(os.listdir(self.directory)) == ([] if self.text is None else [STATE_FILE])
        if self.text is not None:
            assert self.path.read_bytes() == self.text.encode("utf-8")


StateFileMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, database=None
)
test_state_file_machine = StateFileMachine.TestCase


@settings(max_examples=25, deadline=None, database=None)
@given(values=st.lists(st.booleans(), min_size=2, max_size=60))
def test_a_concurrent_reader_never_sees_a_half_written_file(
    values: list[bool], tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("concurrent")
    path = directory / STATE_FILE
    seen_raw: list[str] = []
    seen_by_backend: list[bool] = []
    problems: list[str] = []
    done = threading.Event()

    def read_raw() -> None:
        # Another process that opens the file directly, as fast as it can.
        while not done.is_set():
            try:
                seen_raw.append(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                problems.append("the state file was missing")

    async def read_through_backend() -> None:
        # Another process that uses the library, checking the file on every read.
        reader = LocalFileBackend(path, check_interval=0)
        while not done.is_set():
            try:
                seen_by_backend.append(await reader.get_value())
            except Exception as exc:
                problems.append(f"{type(exc).__name__}: {exc}")
            await anyio.lowlevel.checkpoint()

    async def main() -> None:
        writer = LocalFileBackend(path, check_interval=0)
        await writer.set_value(values[0])
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, read_raw)
            tg.start_soon(read_through_backend)
            try:
                for value in values[1:]:
                    await writer.set_value(value)
                    assert await writer.get_value() is value
            finally:
                done.set()
        assert await writer.get_value() is values[-1]
        assert await LocalFileBackend(path, check_interval=0).get_value() is values[-1]

    anyio.run(main)

    event(f"raw reads while writing: {'none' if not seen_raw else 'some'}")
    event(f"raw reads seeing both values: {set(seen_raw) == {'0', '1'}}")
    event(f"backend reads seeing both values: {set(seen_by_backend) == {False, True}}")
    assert problems == []
    assert set(seen_raw) <= {"1", "0"}, sorted(set(seen_raw))
    # What a reader sees, in order, is something that was written, in that order.
    assert is_ordered_subsequence([text == "1" for text in seen_raw], values)
    assert is_ordered_subsequence(seen_by_backend, values)
    assert path.read_text(encoding="utf-8") == ("1" if values[-1] else "0")
    assert sorted(os.listdir(directory)) == [STATE_FILE]  # no temporary file left behind


REPEATS = 30  # the race below is not deterministic: each round is played this many times


@settings(max_examples=20, deadline=None, database=None)
@given(rounds=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=5))
def test_two_processes_writing_at_once_both_see_the_file(
    rounds: list[tuple[bool, bool]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two workers (or a worker and the CLI) write the state file at the same moment.

    Whichever replace lands last is the state; afterwards each of them must report
    it (both check the file on every read), like any other process does.
    """
    path = tmp_path_factory.mktemp("two-writers") / STATE_FILE
    if any(ours != theirs for ours, theirs in rounds):
        event("the two writers write different values")

    async def main() -> None:
        ours = LocalFileBackend(path, check_interval=0)
        theirs = LocalFileBackend(path, check_interval=0)
        for value, other in rounds:
            for _ in range(REPEATS):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ours.set_value, value)
                    tg.start_soon(theirs.set_value, other)
                text = path.read_text(encoding="utf-8")
                assert text in {"1" if value else "0", "1" if other else "0"}
                on_file = documented_state(text)
                for name, backend in (("ours", ours), ("theirs", theirs)):
                    reported = await backend.get_value()
                    assert reported is on_file, (
                        f"{name} wrote {value if name == 'ours' else other} and reports "
                        f"{reported}, but the file says {text!r} (read_now() gives "
                        f"{await backend.read_now()})"
                    )

    anyio.run(main)


def is_ordered_subsequence(seen: list[bool], written: list[bool]) -> bool:
    """Whether *seen* (repeats allowed) follows *written* without going back."""
    position = 0
    for value in seen:
        while position < len(written) and written[position] != value:
            position += 1
        if position == len(written):
            return False
    return True
