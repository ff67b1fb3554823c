"""A command line to read and switch the maintenance state, shared by the adapters.

Each adapter builds its command with :func:`build_cli`, passing its name,
version and :class:`~maintenance_core.registry.BackendRegistry`::

    app = build_cli("fastapi-maintenance", __version__, registry, find_guard=find_guard)

The command has three subcommands, ``status``, ``on`` and ``off``. Each acts on

- the backend of an app, with ``--app module:attribute``: the command imports
  the app and finds its maintenance middleware (``find_guard``), or, without
  one, the backend the adapter is configured with once the app is imported
  (``configure_backend()``);
- else the backend the options describe: ``--backend`` (``env`` by default),
  ``--var-name`` for the ``env`` backend, ``--file-path`` for the ``file``
  backend and ``--redis-url`` for the ``redis`` backend.

``on`` also takes a window (``--start``/``--end`` or ``--for``), a bypass
secret (``--secret``, stored only as a slow salted hash, or ``--with-secret``
to generate one), ``--retry``, and what maintenance covers: ``--read-only``
(only unsafe requests get the maintenance response) and ``--group NAME``,
repeatable (only the routes of those groups get it). ``status`` prints the
window, partial maintenance, a stored secret and the overrides held fleet-wide
when there are any; ``--json`` prints them as one JSON object and
``--exit-code`` makes the exit code tell whether maintenance is on.

Every option that takes a value can also come from an environment variable
named after the adapter (``FASTAPI_MAINTENANCE_BACKEND``,
``FASTAPI_MAINTENANCE_SECRET``...); the command line wins over the environment.
The exceptions are ``--wait`` and ``--group``, and the flags (``--json``,
``--exit-code``, ``--with-secret``, ``--read-only``): a forgotten ``export``
never narrows what ``on`` switches on, nor changes what a script reads.

Only this module needs typer and rich (the ``cli`` extra); the rest of
maintenance-core does not import them, and neither does this module import a
web framework unless ``--app`` names an app.
"""

# No ``from __future__ import annotations``: typer reads the option annotations
# at runtime, and those of the commands below refer to local help texts.
import contextlib
import getpass
import importlib
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, NoReturn

import anyio

try:
    import typer
    from rich.console import Console
    from rich.text import Text
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "The maintenance command line needs typer and rich, which are not installed: "
        "install fastapi-maintenance[cli] (pip install 'fastapi-maintenance[cli]'), "
        "or the 'cli' extra of your framework's adapter."
    ) from exc

from .backends.base import StateBackend
from .bypass import hash_secret
from .coverage import WHOLE_SITE, Coverage, normalize_groups
from .drain import DrainResult, InstanceStatus, list_instances, supports_fleet, wait_drained
from .errors import MaintenanceError
from .middleware import MaintenanceGuard
from .overrides import overrides_of
from .registry import BackendRegistry
from .state import OFF, MaintenanceState, parse_moment

__all__ = [
    "EXIT_ON",
    "AppTarget",
    "CliError",
    "build_cli",
    "details_lines",
    "env_prefix",
    "find_app_target",
    "generate_secret",
    "load_app",
    "make_backend",
    "parse_duration",
    "requested_coverage",
    "requested_state",
    "run",
    "status_data",
    "status_text",
]

DEFAULT_BACKEND = "env"

EXIT_ERROR = 1
"""An error, printed as one ``Error: ...`` line."""
EXIT_USAGE = 2
"""A usage error: an unknown command or option, a missing or invalid option value."""
EXIT_ON = 3
"""``status --exit-code``: maintenance is on now (``0``: it is off)."""

BYPASS_LINK = "https://<your-host>/any/path?maintenance_bypass={secret}"
DEFAULT_WAIT = 60.0
"""Seconds ``on --wait`` waits when given without a value."""
"""The form of the link that sets the bypass cookie, printed by ``on --with-secret``."""

# The backend each backend option belongs to, and its flag.
_OPTION_BACKEND = {"var_name": "env", "file_path": "file", "redis_url": "redis"}
_FLAGS = {
    "backend": "--backend",
    "var_name": "--var-name",
    "file_path": "--file-path",
    "redis_url": "--redis-url",
}
_WHERE_FLAGS = {**_FLAGS, "app_path": "--app", "app_dir": "--app-dir"}


class CliError(Exception):
    """A usage problem the command reports as one ``Error: ...`` line (exit code 1)."""


@dataclass(frozen=True)
class AppTarget:
    """The backend an app's maintenance middleware reads, as the command acts on it.

    Attributes:
        backend: the backend to read and write.
        enable_maintenance: the app's ``enable_maintenance`` setting: ``True`` or
            ``False`` when it fixes the state whatever the backend stores.
        origin: where the target comes from, e.g. ``"main:app"`` (for messages).
    """

    backend: StateBackend
    enable_maintenance: bool | None = None
    origin: str | None = None

    @classmethod
    def of_guard(cls, guard: MaintenanceGuard, origin: str | None = None) -> "AppTarget":
        """The backend a guard reads now (its own, else the registry's default) and its
        ``enable_maintenance``."""
        return cls(guard.backend, guard.enable_maintenance, origin)


def env_prefix(registry: BackendRegistry) -> str:
    """The prefix of the command's environment variables, from the adapter's
    ``env`` backend variable: ``FASTAPI_MAINTENANCE_MODE`` gives ``FASTAPI_MAINTENANCE``
    (``FASTAPI_MAINTENANCE_BACKEND``, ``FASTAPI_MAINTENANCE_SECRET``...)."""
    var_name = str(getattr(registry.create_backend(DEFAULT_BACKEND), "var_name", "MAINTENANCE"))
    return var_name.removesuffix("_MODE") or var_name


def make_backend(
    registry: BackendRegistry,
    backend: str | None = None,
    var_name: str | None = None,
    file_path: str | None = None,
    redis_url: str | None = None,
    *,
    from_environment: Collection[str] = (),
    env_names: dict[str, str] | None = None,
) -> StateBackend:
    """Build the backend the command line options describe.

    Without ``backend``, an option of one backend chooses it (``file_path``:
    ``file``, ``redis_url``: ``redis``, ``var_name``: ``env``); without any,
    the backend is ``env``.

    Args:
        registry: the adapter's registry, which knows the backend names.
        backend: the backend name.
        var_name: the variable of the ``env`` backend; the adapter's default when ``None``.
        file_path: the state file of the ``file`` backend (required for it).
        redis_url: the URL of the ``redis`` backend (``redis://localhost:6379/0`` when ``None``).
        from_environment: the names of the arguments above that came from
            environment variables. The command line wins: they choose the
            backend only when the command line does not, and one that does not
            apply to the chosen backend is ignored instead of refused.
        env_names: the environment variable of each argument, for messages.

    Raises:
        CliError: for a missing ``--file-path``, an option the backend does not
            take, or options of two backends without ``--backend``.
        UnknownBackendError: naming the choices, for an unknown backend name.
    """
    options: dict[str, str | None] = {
        "var_name": var_name,
        "file_path": file_path,
        "redis_url": redis_url,
    }
    names = env_names or {}

    def flag(option: str) -> str:
        env = names.get(option)
        return f"{_FLAGS[option]} ({env})" if option in from_environment and env else _FLAGS[option]

    def implied(from_env: bool) -> str | None:
        given = [
            option
            for option, value in options.items()
            if value is not None and (option in from_environment) == from_env
        ]
        chosen = {_OPTION_BACKEND[option] for option in given}
        if len(chosen) > 1:
            raise CliError(
                f"{' and '.join(flag(option) for option in given)} belong to different "
                "backends: choose one with --backend."
            )
        return chosen.pop() if chosen else None

    name = backend
    if name is None or "backend" in from_environment:
        # An option on the command line chooses its backend over the environment's.
        name = implied(from_env=False) or name or implied(from_env=True) or DEFAULT_BACKEND
    if name not in registry.backend_names:
        # Let the registry raise its UnknownBackendError, which names the choices.
        return registry.create_backend(name)
    for option, value in options.items():
        if value is None or _OPTION_BACKEND[option] == name:
            continue
        if option in from_environment:
            options[option] = None  # set for another backend: not this call's business
            continue
        raise CliError(
            f"{_FLAGS[option]} applies only to the {_OPTION_BACKEND[option]} backend, "
            f"not to the {name} backend."
        )
    if name == "file":
        path = options["file_path"]
        if not path:
            env = names.get("file_path")
            also = f" (or {env})" if env else ""
            raise CliError(f"--file-path{also} is required with the file backend.")
        return registry.create_backend("file", file_path=path)
    if name == "env":
        return registry.create_backend("env", var_name=options["var_name"])
    if name == "redis":
        return registry.create_backend("redis", url=options["redis_url"])
    try:
        return registry.create_backend(name)
    except TypeError as exc:
        raise CliError(f"The {name} backend cannot be built from the command line: {exc}") from exc


# --- --app ------------------------------------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


def load_app(path: str, app_dir: str | None = None) -> object:
    """Import the app that ``--app module:attribute`` names (``module`` alone: ``module:app``).

    The module is looked up in *app_dir* (default: the current directory) and
    on the Python path. What the module prints while it is imported goes to
    standard error, so that ``status --json`` prints only the JSON.

    Raises:
        CliError: for a malformed path, a module that is not found or fails to
            import, or a missing attribute.
    """
    module_name, _, attribute = path.strip().partition(":")
    attribute = attribute or "app"
    if not _DOTTED.match(module_name) or not _DOTTED.match(attribute):
        raise CliError(
            f"--app {path!r} is not module:attribute, e.g. main:app or myproject.asgi:application."
        )
    directory = os.path.abspath(app_dir or os.getcwd())
    if app_dir is not None and not os.path.isdir(directory):
        raise CliError(f"--app-dir {app_dir!r} is not a directory.")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise CliError(
                f"Cannot import the app {path!r}: no module named {missing!r} in {directory} "
                "or on the Python path (see --app-dir)."
            ) from None
        raise CliError(f"Cannot import the app {path!r}: {exc}") from None
    except MaintenanceError as exc:
        raise CliError(f"Cannot import the app {path!r}: {exc}") from None
    except (Exception, SystemExit) as exc:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise CliError(f"Cannot import the app {path!r}: {reason}") from None
    found: object = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise CliError(f"The module {module_name!r} has no attribute {attribute!r}.") from None
    return found


def _own_guard(app: object) -> MaintenanceGuard | None:
    """A guard the object holds, or one of the Starlette-style middleware entries
    (``Middleware(cls, *args, **kwargs)``) receives."""
    guard = getattr(app, "guard", None)
    if isinstance(guard, MaintenanceGuard):
        return guard
    for entry in getattr(app, "user_middleware", None) or ():
        given = [*getattr(entry, "args", ()), *(getattr(entry, "kwargs", None) or {}).values()]
        for value in given:
            if isinstance(value, MaintenanceGuard):
                return value
    return None


def find_app_target(
    app: object,
    registry: BackendRegistry,
    find_guard: Callable[[object], MaintenanceGuard | None] | None = None,
    origin: str | None = None,
) -> AppTarget:
    """The backend *app* reads: that of its maintenance middleware, else the
    registry's configured default.

    Looks for the guard with the adapter's *find_guard*, then for one held by
    the object (a :class:`~maintenance_core.middleware.MaintenanceMiddleware`)
    or passed to a Starlette-style ``add_middleware``, following wrapped apps
    (``.app``) down.

    Raises:
        CliError: for an object that is not an ASGI app, or a middleware that
            cannot be built with the options the app gives it.
    """
    if not callable(app):
        raise CliError(f"--app {origin!r} is not an ASGI app but a {type(app).__name__}.")
    seen: set[int] = set()
    current: object = app
    while current is not None and id(current) not in seen and len(seen) < 32:
        seen.add(id(current))
        try:
            guard = (find_guard(current) if find_guard is not None else None) or _own_guard(current)
        except (MaintenanceError, ValueError, TypeError) as exc:
            raise CliError(
                f"The maintenance middleware of {origin!r} cannot be built: {exc}"
            ) from None
        if guard is not None:
            return AppTarget.of_guard(guard, origin)
        current = getattr(current, "app", None)
    return AppTarget(registry.default_backend(), None, origin)


# --- the window, the secret ----------------------------------------------------------------

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse ``--for``: whole numbers with units s, m, h, d, e.g. ``30m``, ``2h``, ``1h30m``.

    Raises:
        CliError: for anything else, or a zero duration.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise CliError(f"--for {text!r} is not a duration: use e.g. 30m, 2h, 1h30m or 90s.")
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise CliError("--for must be longer than zero.")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise CliError(f"--for {text!r} is too long: the window would end after 9999.") from None


def requested_coverage(read_only: bool = False, groups: Sequence[str] | None = None) -> Coverage:
    """What ``on --read-only`` and ``on --group NAME...`` ask maintenance to cover.

    Raises:
        CliError: for a group name that is empty, too long or has control
            characters, or too many groups. The message gives the position of
            the ``--group`` option, never the name.
    """
    try:
        names = normalize_groups(list(groups or ()))
    except ValueError as exc:
        reason = str(exc)
        raise CliError(f"--group: {reason[:1].lower()}{reason[1:]}") from None
    if not read_only and not names:
        return WHOLE_SITE
    return Coverage(read_only, names)


def requested_state(
    start: str | None = None,
    end: str | None = None,
    duration: str | None = None,
    secret: str | None = None,
    *,
    coverage: Coverage = WHOLE_SITE,
) -> MaintenanceState:
    """The state ``on`` stores for its options (window, secret, what it covers), validated.

    Raises:
        CliError: for ``--end`` together with ``--for``.
        InvalidWindowError: for bad bounds (naive, malformed, end past or not after start).
        InvalidBypassSecretError: for a weak secret.
    """
    state = _requested_window_and_secret(start, end, duration, secret)
    return state if coverage.whole_site else state.with_coverage(coverage)


def _requested_window_and_secret(
    start: str | None, end: str | None, duration: str | None, secret: str | None
) -> MaintenanceState:
    if end is not None and duration is not None:
        raise CliError("Give either --end or --for, not both.")
    window_end: datetime | str | None = end
    if duration is not None:
        length = parse_duration(duration)
        begin = parse_moment(start, "start") or datetime.now(timezone.utc).replace(microsecond=0)
        try:
            window_end = begin + length
        except OverflowError:
            raise CliError(
                f"--for {duration!r} is too long: the window would end after 9999."
            ) from None
    state = MaintenanceState.scheduled(start, window_end)
    if secret is None:
        return state
    return MaintenanceState(True, state.start, state.end, hash_secret(secret))


def generate_secret() -> str:
    """A strong bypass secret for ``on --with-secret``: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def _read_secret() -> str:
    """``--secret -``: a hidden prompt on a terminal, else one line of standard input."""
    stdin = sys.stdin
    try:
        if stdin is not None and stdin.isatty():
            value = getpass.getpass("Bypass secret (hidden): ")
        else:
            value = stdin.readline() if stdin is not None else ""
    except EOFError:
        value = ""
    value = value.rstrip("\r\n")
    if not value:
        raise CliError(
            "--secret - reads the secret from a prompt or standard input, and none was given."
        )
    return value


# --- what status prints ------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _span(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def details_lines(
    state: MaintenanceState, backend: StateBackend, now: float | None = None
) -> list[str]:
    """What ``status`` prints under the status line: partial maintenance (what it
    covers: ``Mode: read-only, groups: payments``), the window, a stored bypass
    secret (never the secret, only that one is set) and fleet-wide overrides."""
    current = time.time() if now is None else now
    lines: list[str] = []
    if state.on and not state.coverage.whole_site:
        lines.append(f"Mode: {state.coverage.describe()}")
    if state.on and (state.start is not None or state.end is not None):
        start, end = state.start, state.end
        if start is not None and current < start.timestamp():
            until = f" until {_when(end)}" if end is not None else " until switched off"
            lines.append(
                f"Window: starts {_when(start)} (in {_span(start.timestamp() - current)}){until}"
            )
        elif end is not None and current >= end.timestamp():
            lines.append(f"Window: ended {_when(end)}; maintenance switched itself off")
        elif end is not None:
            lines.append(
                f"Window: open until {_when(end)} ({_span(end.timestamp() - current)} left)"
            )
        else:
            lines.append(f"Window: open since {_when(start)} until switched off")  # type: ignore[arg-type]
    if state.bypass is not None and state.bypass_key is None:
        lines.append(
            "Bypass secret: stored in the older sha256 form, which lets nobody through; "
            "store it again with on --secret"
        )
    elif state.bypass is not None:
        lines.append("Bypass secret: set (stored as a hash with the state)")
    leases = overrides_of(backend).held_everywhere
    if any(leases):
        lines.append(f"Overrides held fleet-wide: {leases[0]} on, {leases[1]} off")
    return lines


def _window_phase(state: MaintenanceState, now: float) -> str:
    if state.start is not None and now < state.start.timestamp():
        return "upcoming"
    if state.end is not None and now >= state.end.timestamp():
        return "ended"
    return "open"


def status_data(
    state: MaintenanceState,
    backend: StateBackend,
    now: float | None = None,
    *,
    fixed_by_app: bool | None = None,
    instances: Sequence[InstanceStatus] | None = None,
) -> dict[str, Any]:
    """What ``status --json`` prints: one object, the same facts as the text.

    ``maintenance`` is the stored switch, ``on_now`` whether it is in effect
    now (a window may not have started or may have ended); the exit code of
    ``status --exit-code`` follows ``on_now``. ``window`` is ``null`` or its
    ``start``/``end`` (ISO 8601, UTC, ``null`` for open-ended) and ``phase``
    (``upcoming``, ``open``, ``ended``). ``secret_stored`` says whether a bypass
    secret is stored, never the secret. ``overrides`` counts the
    ``maintenance_mode_on()``/``off()`` leases held fleet-wide (Redis).
    ``fixed_by_app`` is ``true``/``false`` when the app named by ``--app``
    fixes the state with ``enable_maintenance``, else ``null``. ``instances``
    lists the live instances of a fleet (Redis) and the state each serves, else
    ``null``. ``read_only`` and ``groups`` (sorted) are what the stored state
    covers while it is on: ``false`` and ``[]`` for the whole site.
    """
    current = time.time() if now is None else now
    window: dict[str, Any] | None = None
    if state.on and (state.start is not None or state.end is not None):
        window = {
            "start": _iso(state.start),
            "end": _iso(state.end),
            "phase": _window_phase(state, current),
        }
    leases = overrides_of(backend).held_everywhere
    return {
        "maintenance": state.on,
        "on_now": state.is_on_at(current),
        "window": window,
        "secret_stored": state.bypass is not None,
        "overrides": {"on": leases[0], "off": leases[1]},
        "retry_after": state.retry_after,
        "backend": backend.describe(),
        "fixed_by_app": fixed_by_app,
        "instances": None
        if instances is None
        else [
            {
                "instance": i.instance,
                "on": i.on,
                "drained": i.drained,
                "running": i.running,
                "generation": i.generation,
            }
            for i in instances
        ],
        # What the stored maintenance covers: nothing to limit while it is off.
        "read_only": state.on and state.read_only,
        "groups": sorted(state.groups) if state.on else [],
    }


def status_text(value: bool, backend: StateBackend) -> str:
    """The status line, e.g. ``Maintenance mode is ON (env: FASTAPI_MAINTENANCE_MODE)``."""
    return f"Maintenance mode is {'ON' if value else 'OFF'} ({backend.describe()})"


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


# --- running the command with one-line errors ----------------------------------------------


def _has_base(exc: BaseException, name: str) -> bool:
    # click's classes, or typer's own copy of them (typer 0.2x vendors click).
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def _usage_hint(exc: BaseException, prog_name: str | None) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or prog_name
    return f" (see {path} --help)" if path else ""


def run(app: "typer.Typer", args: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Run the command and return its exit code, every error as one ``Error: ...`` line.

    Usage errors (an unknown option, a bad choice) exit with ``2``, the
    command's own errors with ``1``; ``status --exit-code`` exits with
    :data:`EXIT_ON` while maintenance is on.
    """
    command = typer.main.get_command(app)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    args = _default_wait(list(sys.argv[1:] if args is None else args))

    def error(message: str) -> None:
        err.print(Text.assemble(("Error:", "bold red"), " ", _one_line(message)))

    try:
        result = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except Exception as exc:
        if _has_base(exc, "ClickException"):
            message = exc.format_message()  # type: ignore[attr-defined]
            # typer 0.2x words a bad choice "Value error, 'x' is not one of ...".
            message = message.replace("Value error, ", "")
            if _has_base(exc, "UsageError"):
                message = message.rstrip(".") + _usage_hint(exc, prog_name) + "."
            error(message)
            code = getattr(exc, "exit_code", EXIT_ERROR)
            return code if isinstance(code, int) and code else EXIT_ERROR
        if _has_base(exc, "Abort"):
            error("Aborted.")
            return EXIT_ERROR
        raise
    return result if isinstance(result, int) else 0


# --- the command ------------------------------------------------------------------------


def _default_wait(args: list[str]) -> list[str]:
    """``--wait`` without seconds means :data:`DEFAULT_WAIT` (typer has no optional values)."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--wait":
            following = args[index + 1] if index + 1 < len(args) else None
            if following is None or following.startswith("-"):
                args[index] = f"--wait={DEFAULT_WAIT:g}"
    return args


def _source(ctx: "typer.Context", name: str) -> str:
    source = ctx.get_parameter_source(name)
    return source.name if source is not None else "DEFAULT"


@dataclass
class _Root:
    app: str | None = None
    app_dir: str | None = None
    app_from_env: bool = False


def build_cli(
    prog_name: str,
    version: str,
    registry: BackendRegistry,
    *,
    find_guard: Callable[[object], MaintenanceGuard | None] | None = None,
    app_backend: Callable[[], AppTarget] | None = None,
    env_var_prefix: str | None = None,
    version_name: str | None = None,
) -> typer.Typer:
    """Build the maintenance command line of an adapter.

    Args:
        prog_name: the command's name, printed by ``--version`` and in help.
        version: the adapter's version.
        registry: the adapter's registry; ``--backend`` accepts its backend names.
        find_guard: how ``--app`` finds the maintenance guard in an app of the
            adapter's framework (``None`` when it has none); the core then
            looks for a :class:`~maintenance_core.middleware.MaintenanceMiddleware`.
        app_backend: for a command that belongs to one app (``litestar
            maintenance``): the target the commands act on. The command then has
            no ``--app`` and no backend options.
        env_var_prefix: the prefix of the environment variables; by default
            from the adapter's ``env`` backend variable (:func:`env_prefix`).
        version_name: the name ``--version`` prints; *prog_name* by default.

    Returns:
        A :class:`typer.Typer` application; call it, or pass it to :func:`run`
        for one-line usage errors.
    """
    # soft_wrap: never break the status line at the terminal (or default 80) width.
    # highlight off and Text objects: no markup is read from paths or messages.
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    prefix = env_var_prefix or env_prefix(registry)
    bound = app_backend is not None

    def env(name: str) -> str:
        return f"{prefix}_{name}"

    def where_env(name: str) -> str | None:
        # In a command bound to an app, the app decides the backend: no variables.
        return None if bound else env(name)

    examples = _examples(prog_name, bound)
    app = typer.Typer(
        name=prog_name,
        help=(
            f"Show or switch the maintenance mode of {prog_name} applications."
            if not bound
            else "Show or switch the maintenance mode of this app, on the backend it uses."
        ),
        add_completion=not bound,  # --install-completion, as fastapi-maintenance 0.0.5 had
        pretty_exceptions_show_locals=False,
    )

    def fail(message: str) -> NoReturn:
        err.print(Text.assemble(("Error:", "bold red"), " ", _one_line(message)))
        raise typer.Exit(code=EXIT_ERROR)

    def print_status(
        state: MaintenanceState, backend: StateBackend, fixed: bool | None, now: float
    ) -> None:
        value = state.is_on_at(now)
        line = Text(status_text(value, backend))
        start = len("Maintenance mode is ")
        word = "ON" if value else "OFF"
        line.stylize("bold red" if value else "bold green", start, start + len(word))
        out.print(line)
        for detail in details_lines(state, backend, now):
            out.print(Text(detail))
        if fixed is not None:
            out.print(
                Text(
                    f"The app fixes maintenance {'ON' if fixed else 'OFF'} "
                    f"(enable_maintenance={fixed}): it does not read this state"
                )
            )

    def target_of(ctx: typer.Context, where: dict[str, Any]) -> AppTarget:
        sources = {name: _source(ctx, name) for name in where}
        if app_backend is not None:
            given = [name for name, value in where.items() if value is not None]
            if given:
                raise CliError(
                    f"{_WHERE_FLAGS[given[0]]} is not available here: {prog_name} acts on "
                    "the backend of the app it runs for."
                )
            return app_backend()
        root = ctx.find_object(_Root) or _Root()
        app_path, app_dir = where.pop("app_path"), where.pop("app_dir")
        app_from_env = False
        if app_path is None:
            app_path, app_from_env = root.app, root.app_from_env
        if app_dir is None:
            app_dir = root.app_dir
        options = {name: value for name, value in where.items() if value is not None}
        from_env = {name for name in options if sources[name] == "ENVIRONMENT"}
        if app_path is not None and options:
            backend_on_command_line = any(name not in from_env for name in options)
            if backend_on_command_line == app_from_env:
                # The command line wins over the environment.
                if backend_on_command_line:
                    app_path = None
                else:
                    options = {}
            else:
                flags = ", ".join(
                    f"{_FLAGS[name]} ({env(name.upper())})" if name in from_env else _FLAGS[name]
                    for name in options
                )
                app_flag = f"--app ({env('APP')})" if app_from_env else "--app"
                raise CliError(
                    f"Give either {app_flag} or {flags}, not both: with --app the command "
                    "acts on the backend of that app."
                )
        if app_path is not None:
            loaded = load_app(app_path, app_dir)
            return find_app_target(loaded, registry, find_guard, app_path)
        backend = make_backend(
            registry,
            options.get("backend"),
            options.get("var_name"),
            options.get("file_path"),
            options.get("redis_url"),
            from_environment=from_env,
            env_names={name: env(name.upper()) for name in _FLAGS},
        )
        return AppTarget(backend)

    def execute(
        ctx: typer.Context,
        where: dict[str, Any],
        new_state: Callable[[], MaintenanceState] | None,
        *,
        as_json: bool = False,
        exit_code: bool = False,
        shown_secret: str | None = None,
        wait: float | None = None,
    ) -> None:
        action = "build the backend"
        drained: list[DrainResult] = []
        instances: list[InstanceStatus] | None = None

        async def apply(
            state_backend: StateBackend, wanted: MaintenanceState | None
        ) -> MaintenanceState:
            nonlocal action, instances
            try:
                if wanted is not None:
                    action = f"write the maintenance state ({state_backend.describe()})"
                    await state_backend.set_state(wanted)
                if wait is not None:
                    action = f"wait for the fleet to drain ({state_backend.describe()})"
                    drained.append(await wait_drained(state_backend, wait))
                action = f"read the maintenance state ({state_backend.describe()})"
                state = await state_backend.read_state_now()
                if supports_fleet(state_backend):
                    instances = await list_instances(state_backend)
                return state
            finally:
                close = getattr(state_backend, "aclose", None)
                if close is not None:
                    with anyio.CancelScope(shield=True):
                        await close()

        if "backend" in where and isinstance(where["backend"], Enum):
            where["backend"] = where["backend"].value
        try:
            target = target_of(ctx, where)
            wanted = new_state() if new_state is not None else None
            if wanted is not None:
                target.backend.check_writable()
            if wait is not None:
                if not supports_fleet(target.backend):
                    raise CliError(
                        "--wait needs the redis backend: only instances sharing a Redis "
                        "state report the requests they are still running."
                    )
                if wanted is not None and not wanted.is_on_now():
                    raise CliError(
                        "--wait waits for maintenance to take effect now: a window that "
                        "starts later is not acknowledged until it opens."
                    )
            state = anyio.run(apply, target.backend, wanted)
        except (CliError, MaintenanceError, ValueError) as exc:
            # Before OSError: StateWriteError is both, and already says what failed.
            fail(str(exc) or type(exc).__name__)
        except OSError as exc:
            fail(f"Cannot {action}: {exc}")
        except Exception as exc:  # still one line, never a traceback
            fail(f"Cannot {action} ({type(exc).__name__}).")
        now = time.time()
        if as_json:
            data = status_data(
                state,
                target.backend,
                now,
                fixed_by_app=target.enable_maintenance,
                instances=instances,
            )
            out.print(Text(json.dumps(data)))
        else:
            print_status(state, target.backend, target.enable_maintenance, now)
            if instances:  # like the overrides line: only when there is something to say
                out.print(Text(f"Instances: {len(instances)} live"))
                for instance in instances:
                    out.print(Text("  " + instance.describe()))
        if drained:
            result = drained[0]
            if not result.drained:
                fail(f"Not drained within {result.timeout:g}s: {result.summary()}")
            out.print(Text(f"Drained: {result.summary()} ({result.waited:.1f}s)"))
        if shown_secret is not None:
            out.print(Text(f"Bypass secret (shown only now, keep it): {shown_secret}"))
            out.print(Text(f"Bypass link: {BYPASS_LINK.format(secret=shown_secret)}"))
        if exit_code and state.is_on_at(now):
            raise typer.Exit(code=EXIT_ON)

    def version_callback(value: bool) -> None:
        if value:
            out.print(Text(f"{version_name or prog_name} {version}"))
            raise typer.Exit()

    app_help = (
        "The app whose backend to act on, as module:attribute (e.g. main:app), imported "
        "from the current directory: the backend of its maintenance middleware, else the "
        "one it configures with configure_backend()."
    )
    app_dir_help = "The directory to import the --app module from (default: the current one)."

    @app.callback(invoke_without_command=True, epilog=examples["root_epilog"])
    def root(
        ctx: typer.Context,
        app_path: Annotated[
            str | None,
            typer.Option("--app", help=app_help, envvar=where_env("APP"), hidden=bound),
        ] = None,
        app_dir: Annotated[
            str | None,
            typer.Option("--app-dir", help=app_dir_help, envvar=where_env("APP_DIR"), hidden=bound),
        ] = None,
        show_version: Annotated[
            bool,
            typer.Option(
                "--version",
                help="Show the version and exit.",
                callback=version_callback,
                is_eager=True,
            ),
        ] = False,
    ) -> None:
        """Show or switch the maintenance mode."""
        if bound and (app_path is not None or app_dir is not None):
            fail(f"--app is not available here: {prog_name} acts on the app it runs for.")
        ctx.obj = _Root(app_path, app_dir, _source(ctx, "app_path") == "ENVIRONMENT")
        if ctx.invoked_subcommand is None:
            # Without a command, print the help and succeed (whatever the click version).
            # With rich, typer prints the help itself and returns no text.
            help_text = ctx.get_help()
            if help_text:
                typer.echo(help_text)
            raise typer.Exit()

    default_var_name = getattr(registry.create_backend(DEFAULT_BACKEND), "var_name", None)
    # A choice, shown in --help and checked by the parser. The functional API makes
    # an Enum typer reads like any other; mypy cannot see its members.
    backend_choice = Enum(  # type: ignore[misc]
        "BackendName", [(name, name) for name in registry.backend_names], type=str
    )
    backend_help = "Where the state is stored (default: env, or the backend of the option given)."
    var_name_help = "Environment variable of the env backend."
    file_path_help = "State file of the file backend."
    redis_url_help = (
        "URL of the redis backend (default redis://localhost:6379/0); put a password in "
        f"{env('REDIS_URL')} rather than on the command line."
    )
    BackendOption = Annotated[
        backend_choice | None,
        typer.Option(
            "--backend",
            help=backend_help,
            envvar=where_env("BACKEND"),
            hidden=bound,
            case_sensitive=False,
        ),
    ]
    VarNameOption = Annotated[
        str | None,
        typer.Option(
            "--var-name",
            help=var_name_help,
            show_default=default_var_name or False,
            envvar=where_env("VAR_NAME"),
            hidden=bound,
        ),
    ]
    FilePathOption = Annotated[
        str | None,
        typer.Option(
            "--file-path", help=file_path_help, envvar=where_env("FILE_PATH"), hidden=bound
        ),
    ]
    RedisUrlOption = Annotated[
        str | None,
        typer.Option(
            "--redis-url", help=redis_url_help, envvar=where_env("REDIS_URL"), hidden=bound
        ),
    ]
    CommandAppOption = Annotated[
        str | None, typer.Option("--app", help=app_help + " Also before the command.", hidden=bound)
    ]
    CommandAppDirOption = Annotated[
        str | None, typer.Option("--app-dir", help=app_dir_help, hidden=bound)
    ]
    StartOption = Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Start of the window, ISO 8601 with an offset, e.g. 2026-11-21T22:00Z "
            "(default: now).",
            envvar=env("START"),
        ),
    ]
    EndOption = Annotated[
        str | None,
        typer.Option(
            "--end",
            help="End of the window, ISO 8601 with an offset; maintenance switches itself "
            "off then.",
            envvar=env("END"),
        ),
    ]
    ForOption = Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Length of the window instead of --end, e.g. 30m, 2h, 1h30m.",
            envvar=env("FOR"),
        ),
    ]
    SecretOption = Annotated[
        str | None,
        typer.Option(
            "--secret",
            help="A bypass secret for the team (16+ characters), stored only as a slow salted "
            "hash: send it as X-Maintenance-Bypass or open a URL with "
            f"?maintenance_bypass=<secret>. Give - to type it at a hidden prompt (or pipe "
            f"it in), or set {env('SECRET')}, to keep it off the command line. Storing a "
            "secret, even the same one, revokes the bypass cookies issued before.",
            envvar=env("SECRET"),
            show_envvar=True,
        ),
    ]
    WithSecretOption = Annotated[
        bool,
        typer.Option(
            "--with-secret",
            help="Generate a strong bypass secret, store it (as a hash) and print it once, "
            "with the link that lets a browser through.",
        ),
    ]
    RetryOption = Annotated[
        int | None,
        typer.Option(
            "--retry",
            help="Seconds for Retry-After while this state is on, stored with it (default: "
            "the app's configured value, 3600); a window's countdown to its --end wins.",
            envvar=env("RETRY"),
        ),
    ]
    WaitOption = Annotated[
        float | None,
        typer.Option(
            "--wait",
            help=f"Return once every live instance of the fleet (redis) has finished the "
            f"requests it admitted before the switch, waiting at most this many seconds "
            f"(--wait alone: {DEFAULT_WAIT:g}); on timeout, name the instances still "
            f"running requests and exit with {EXIT_ERROR} (maintenance stays on).",
            min=0,
        ),
    ]
    ReadOnlyOption = Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Read-only maintenance: only unsafe requests (anything but GET, HEAD and "
            "OPTIONS, and websocket handshakes) get the maintenance response; reads "
            "proceed. With --group: read-only for those groups.",
        ),
    ]
    GroupOption = Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            metavar="NAME",
            help="Limit maintenance to the routes of this group (their OpenAPI tags and "
            "maintenance_group() names, case-sensitive); repeat it for more groups. The "
            "other routes proceed.",
            show_default=False,
        ),
    ]
    # off takes neither: given anyway, they get a clear error instead of "no such option".
    OffReadOnlyOption = Annotated[bool, typer.Option("--read-only", hidden=True)]
    OffGroupOption = Annotated[list[str] | None, typer.Option("--group", hidden=True)]
    JsonOption = Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: maintenance, on_now, window, secret_stored, "
            "overrides, retry_after, backend, fixed_by_app, instances, read_only, groups.",
        ),
    ]
    ExitCodeOption = Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help=f"Exit with {EXIT_ON} while maintenance is on now, 0 while it is off "
            f"({EXIT_ERROR} for an error, {EXIT_USAGE} for a usage error).",
        ),
    ]

    @app.command(epilog=examples["status"])
    def status(
        ctx: typer.Context,
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
        app_path: CommandAppOption = None,
        app_dir: CommandAppDirOption = None,
        as_json: JsonOption = False,
        exit_code: ExitCodeOption = False,
    ) -> None:
        """Show whether maintenance mode is on, with its window, secret and overrides."""
        where = _where(backend, var_name, file_path, redis_url, app_path, app_dir)
        execute(ctx, where, None, as_json=as_json, exit_code=exit_code)

    @app.command(epilog=examples["on"])
    def on(
        ctx: typer.Context,
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
        app_path: CommandAppOption = None,
        app_dir: CommandAppDirOption = None,
        start: StartOption = None,
        end: EndOption = None,
        duration: ForOption = None,
        secret: SecretOption = None,
        with_secret: WithSecretOption = False,
        retry: RetryOption = None,
        wait: WaitOption = None,
        read_only: ReadOnlyOption = False,
        group: GroupOption = None,
    ) -> None:
        """Turn maintenance mode on, now or for a window, for the whole site or in part
        (--read-only, --group) (writable backends: file, redis)."""
        where = _where(backend, var_name, file_path, redis_url, app_path, app_dir)
        try:
            coverage = requested_coverage(read_only, group)
        except CliError as exc:
            fail(str(exc))
        generated: str | None = None
        if with_secret:
            if secret is not None and _source(ctx, "secret") != "ENVIRONMENT":
                fail("Give either --secret or --with-secret, not both.")
            secret = generated = generate_secret()
        chosen = secret

        def new_state() -> MaintenanceState:
            given = _read_secret() if chosen == "-" else chosen
            state = requested_state(start, end, duration, given, coverage=coverage)
            return state.with_retry_after(retry)

        execute(ctx, where, new_state, shown_secret=generated, wait=wait)

    @app.command(epilog=examples["off"])
    def off(
        ctx: typer.Context,
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
        app_path: CommandAppOption = None,
        app_dir: CommandAppDirOption = None,
        read_only: OffReadOnlyOption = False,
        group: OffGroupOption = None,
    ) -> None:
        """Turn maintenance mode off, ending any window and secret (file, redis)."""
        if read_only or group is not None:
            given = "--read-only" if read_only else "--group"
            fail(
                f"{given} limits maintenance that is on: off turns maintenance off for "
                "every request (to narrow it instead, run on again with the options wanted)."
            )
        where = _where(backend, var_name, file_path, redis_url, app_path, app_dir)
        execute(ctx, where, lambda: OFF)

    return app


def _where(
    backend: object,
    var_name: str | None,
    file_path: str | None,
    redis_url: str | None,
    app_path: str | None,
    app_dir: str | None,
) -> dict[str, Any]:
    # The keys are the parameter names, for ctx.get_parameter_source().
    return {
        "backend": backend,
        "var_name": var_name,
        "file_path": file_path,
        "redis_url": redis_url,
        "app_path": app_path,
        "app_dir": app_dir,
    }


def _examples(prog: str, bound: bool) -> dict[str, str]:
    """The examples shown in --help (one per line, kept as written)."""
    if bound:
        lines = {
            "status": [f"{prog} status", f"{prog} status --json"],
            "on": [
                f"{prog} on --for 30m --with-secret",
                f"{prog} on --secret -",
                f"{prog} on --read-only --group payments",
            ],
            "off": [f"{prog} off"],
        }
    else:
        lines = {
            "status": [
                f"{prog} --app main:app status",
                f"{prog} status --file-path /srv/app/maintenance_mode.txt --json",
                f"{prog} status --backend redis --exit-code",
            ],
            "on": [
                f"{prog} --app main:app on --for 30m --with-secret",
                f"{prog} on --file-path state.txt --start 2026-11-21T22:00Z --for 1h",
                f"{prog} on --backend redis --secret -",
                f"{prog} on --backend redis --read-only --wait",
                f"{prog} --app main:app on --group payments --group search --for 1h",
            ],
            "off": [f"{prog} --app main:app off", f"{prog} off --backend redis"],
        }
    blocks = {name: "Examples:\n\n" + "\n".join(items) for name, items in lines.items()}
    everything = [lines["status"][0], lines["on"][0], lines["off"][0]]
    blocks["root_epilog"] = "Examples:\n\n" + "\n".join(everything)
    return blocks
