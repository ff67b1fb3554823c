"""A command line to read and switch the maintenance state, shared by the adapters.

Each adapter builds its own command with :func:`build_cli`, passing its name,
version and :class:`~maintenance_core.registry.BackendRegistry`::

    app = build_cli("fastapi-maintenance", __version__, registry)

The command has three subcommands, ``status``, ``on`` and ``off``, each taking
``--backend`` (``env`` by default), ``--var-name`` for the ``env`` backend,
``--file-path`` for the ``file`` backend and ``--redis-url`` for the ``redis``
backend. ``on`` also takes a window (``--start``/``--end`` or ``--for``) and a
bypass secret (``--secret``, stored only as a slow salted hash). ``status`` prints the
window, a stored secret and the overrides held fleet-wide when there are any.

Only this module needs typer and rich (the ``cli`` extra); the rest of
maintenance-core does not import them.
"""

# No ``from __future__ import annotations``: typer reads the option annotations
# at runtime, and those of the commands below refer to local help texts.
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated, NoReturn

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
from .errors import MaintenanceError
from .overrides import overrides_of
from .registry import BackendRegistry
from .state import OFF, MaintenanceState, parse_moment

__all__ = [
    "CliError",
    "build_cli",
    "details_lines",
    "make_backend",
    "parse_duration",
    "requested_state",
    "status_text",
]

DEFAULT_BACKEND = "env"


class CliError(Exception):
    """A usage problem the command reports as one ``Error: ...`` line (exit code 1)."""


def make_backend(
    registry: BackendRegistry,
    backend: str | None = None,
    var_name: str | None = None,
    file_path: str | None = None,
    redis_url: str | None = None,
) -> StateBackend:
    """Build the backend the command line options describe.

    Args:
        registry: the adapter's registry, which knows the backend names.
        backend: the backend name; ``"env"`` when ``None``.
        var_name: the variable of the ``env`` backend; the adapter's default when ``None``.
        file_path: the state file of the ``file`` backend (required for it).
        redis_url: the URL of the ``redis`` backend (``redis://localhost:6379/0`` when ``None``).

    Raises:
        CliError: for a missing ``--file-path`` or an option the backend does not take.
        UnknownBackendError: naming the choices, for an unknown backend name.
    """
    name = DEFAULT_BACKEND if backend is None else backend
    if redis_url is not None and name != "redis":
        raise CliError(f"--redis-url applies only to the redis backend, not to the {name} backend.")
    if name not in registry.backend_names:
        # Let the registry raise its UnknownBackendError, which names the choices.
        return registry.create_backend(name)
    if name == "file":
        if var_name is not None:
            raise CliError("--var-name applies only to the env backend, not to the file backend.")
        if not file_path:
            raise CliError("--file-path is required with --backend file.")
        return registry.create_backend("file", file_path=file_path)
    if file_path is not None:
        raise CliError(f"--file-path applies only to the file backend, not to the {name} backend.")
    if name == "env":
        return registry.create_backend("env", var_name=var_name)
    if var_name is not None:
        raise CliError(f"--var-name applies only to the env backend, not to the {name} backend.")
    if name == "redis":
        return registry.create_backend("redis", url=redis_url)
    try:
        return registry.create_backend(name)
    except TypeError as exc:
        raise CliError(f"The {name} backend cannot be built from the command line: {exc}") from exc


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


def requested_state(
    start: str | None = None,
    end: str | None = None,
    duration: str | None = None,
    secret: str | None = None,
) -> MaintenanceState:
    """The state ``on`` stores for its options (window, secret), validated.

    Raises:
        CliError: for ``--end`` together with ``--for``.
        InvalidWindowError: for bad bounds (naive, malformed, end past or not after start).
        InvalidBypassSecretError: for a weak secret.
    """
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


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


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
    """What ``status`` prints under the status line: the window, a stored bypass
    secret (never the secret, only that one is set) and fleet-wide overrides."""
    current = time.time() if now is None else now
    lines: list[str] = []
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


def status_text(value: bool, backend: StateBackend) -> str:
    """The status line, e.g. ``Maintenance mode is ON (env: FASTAPI_MAINTENANCE_MODE)``."""
    return f"Maintenance mode is {'ON' if value else 'OFF'} ({backend.describe()})"


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def build_cli(prog_name: str, version: str, registry: BackendRegistry) -> typer.Typer:
    """Build the maintenance command line of an adapter.

    Args:
        prog_name: the command's name, printed by ``--version`` and in help.
        version: the adapter's version.
        registry: the adapter's registry; ``--backend`` accepts its backend names.

    Returns:
        A :class:`typer.Typer` application; call it to run the command.
    """
    # soft_wrap: never break the status line at the terminal (or default 80) width.
    # highlight off and Text objects: no markup is read from paths or messages.
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    choices = ", ".join(registry.backend_names)

    app = typer.Typer(
        name=prog_name,
        help=f"Show or switch the maintenance mode of {prog_name} applications.",
        add_completion=True,  # --install-completion, as fastapi-maintenance 0.0.5 had
        pretty_exceptions_show_locals=False,
    )

    def fail(message: str) -> NoReturn:
        err.print(Text.assemble(("Error:", "bold red"), " ", _one_line(message)))
        raise typer.Exit(code=1)

    def print_status(state: MaintenanceState, backend: StateBackend) -> None:
        value = state.is_on_now()
        line = Text(status_text(value, backend))
        start = len("Maintenance mode is ")
        word = "ON" if value else "OFF"
        line.stylize("bold red" if value else "bold green", start, start + len(word))
        out.print(line)
        for detail in details_lines(state, backend):
            out.print(Text(detail))

    def run(
        backend: str | None,
        var_name: str | None,
        file_path: str | None,
        redis_url: str | None,
        new_state: Callable[[], MaintenanceState] | None,
    ) -> None:
        action = "build the backend"

        async def apply(
            state_backend: StateBackend, wanted: MaintenanceState | None
        ) -> MaintenanceState:
            nonlocal action
            try:
                if wanted is not None:
                    action = f"write the maintenance state ({state_backend.describe()})"
                    await state_backend.set_state(wanted)
                action = f"read the maintenance state ({state_backend.describe()})"
                return await state_backend.read_state_now()
            finally:
                close = getattr(state_backend, "aclose", None)
                if close is not None:
                    await close()

        try:
            state_backend = make_backend(registry, backend, var_name, file_path, redis_url)
            wanted = None
            if new_state is not None:
                wanted = new_state()
                state_backend.check_writable()
            state = anyio.run(apply, state_backend, wanted)
        except (CliError, MaintenanceError, ValueError) as exc:
            # Before OSError: StateWriteError is both, and already says what failed.
            fail(str(exc) or type(exc).__name__)
        except OSError as exc:
            fail(f"Cannot {action}: {exc}")
        except Exception as exc:  # still one line, never a traceback
            fail(f"Cannot {action} ({type(exc).__name__}).")
        print_status(state, state_backend)

    def version_callback(value: bool) -> None:
        if value:
            out.print(Text(f"{prog_name} {version}"))
            raise typer.Exit()

    @app.callback(invoke_without_command=True)
    def root(
        ctx: typer.Context,
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
        if ctx.invoked_subcommand is None:
            # Without a command, print the help and succeed (whatever the click version).
            # With rich, typer prints the help itself and returns no text.
            help_text = ctx.get_help()
            if help_text:
                typer.echo(help_text)
            raise typer.Exit()

    default_var_name = getattr(registry.create_backend(DEFAULT_BACKEND), "var_name", None)
    backend_help = f"Where the state is stored: one of {choices}."
    var_name_help = "Environment variable of the env backend."
    file_path_help = "State file of the file backend (required with --backend file)."
    BackendOption = Annotated[
        str | None, typer.Option("--backend", help=backend_help, show_default=DEFAULT_BACKEND)
    ]
    VarNameOption = Annotated[
        str | None,
        typer.Option("--var-name", help=var_name_help, show_default=default_var_name or False),
    ]
    FilePathOption = Annotated[str | None, typer.Option("--file-path", help=file_path_help)]
    redis_url_help = "URL of the redis backend (default redis://localhost:6379/0)."
    RedisUrlOption = Annotated[str | None, typer.Option("--redis-url", help=redis_url_help)]
    StartOption = Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Start of the window, ISO 8601 with an offset, e.g. 2026-11-21T22:00Z "
            "(default: now).",
        ),
    ]
    EndOption = Annotated[
        str | None,
        typer.Option(
            "--end",
            help="End of the window, ISO 8601 with an offset; maintenance switches itself "
            "off then.",
        ),
    ]
    ForOption = Annotated[
        str | None,
        typer.Option("--for", help="Length of the window instead of --end, e.g. 30m, 2h, 1h30m."),
    ]
    SecretOption = Annotated[
        str | None,
        typer.Option(
            "--secret",
            help='A random bypass secret (16+ characters, e.g. from python -c "import secrets; '
            'print(secrets.token_urlsafe())") for the team, stored only as a slow salted '
            "hash: send it as X-Maintenance-Bypass or open a URL with "
            "?maintenance_bypass=<secret>. Storing a secret, even the same one, revokes "
            "the bypass cookies issued before.",
        ),
    ]

    RetryOption = Annotated[
        int | None,
        typer.Option(
            "--retry",
            help="Seconds for Retry-After while this state is on, stored with it (default: "
            "the app's configured value, 3600); a window's countdown to its --end wins.",
        ),
    ]

    @app.command()
    def status(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
    ) -> None:
        """Show whether maintenance mode is on, with its window, secret and overrides."""
        run(backend, var_name, file_path, redis_url, None)

    @app.command()
    def on(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
        start: StartOption = None,
        end: EndOption = None,
        duration: ForOption = None,
        secret: SecretOption = None,
        retry: RetryOption = None,
    ) -> None:
        """Turn maintenance mode on, now or for a window (writable backends: file, redis)."""
        run(
            backend,
            var_name,
            file_path,
            redis_url,
            lambda: requested_state(start, end, duration, secret).with_retry_after(retry),
        )

    @app.command()
    def off(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
    ) -> None:
        """Turn maintenance mode off, ending any window and secret (file, redis)."""
        run(backend, var_name, file_path, redis_url, lambda: OFF)

    return app
