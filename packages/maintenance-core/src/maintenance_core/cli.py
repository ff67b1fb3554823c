"""A command line to read and switch the maintenance state, shared by the adapters.

Each adapter builds its own command with :func:`build_cli`, passing its name,
version and :class:`~maintenance_core.registry.BackendRegistry`::

    app = build_cli("fastapi-maintenance", __version__, registry)

The command has three subcommands, ``status``, ``on`` and ``off``, each taking
``--backend`` (``env`` by default), ``--var-name`` for the ``env`` backend and
``--file-path`` for the ``file`` backend.

Only this module needs typer and rich (the ``cli`` extra); the rest of
maintenance-core does not import them.
"""

# No ``from __future__ import annotations``: typer reads the option annotations
# at runtime, and those of the commands below refer to local help texts.
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

from .backends import BaseStateBackend, require_writable
from .errors import MaintenanceError
from .registry import BackendRegistry

__all__ = ["CliError", "build_cli", "make_backend", "status_text"]

DEFAULT_BACKEND = "env"


class CliError(Exception):
    """A usage problem the command reports as one ``Error: ...`` line (exit code 1)."""


def make_backend(
    registry: BackendRegistry,
    backend: str | None = None,
    var_name: str | None = None,
    file_path: str | None = None,
    redis_url: str | None = None,
) -> BaseStateBackend:
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


def status_text(value: bool, backend: BaseStateBackend) -> str:
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
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )

    def fail(message: str) -> NoReturn:
        err.print(Text.assemble(("Error:", "bold red"), " ", _one_line(message)))
        raise typer.Exit(code=1)

    def print_status(value: bool, backend: BaseStateBackend) -> None:
        line = Text(status_text(value, backend))
        start = len("Maintenance mode is ")
        word = "ON" if value else "OFF"
        line.stylize("bold red" if value else "bold green", start, start + len(word))
        out.print(line)

    def run(
        backend: str | None,
        var_name: str | None,
        file_path: str | None,
        redis_url: str | None,
        new_value: bool | None,
    ) -> None:
        action = "build the backend"

        async def apply() -> bool:
            nonlocal action
            try:
                if new_value is not None:
                    action = f"write the maintenance state ({state_backend.describe()})"
                    await state_backend.set_value(new_value)
                action = f"read the maintenance state ({state_backend.describe()})"
                return await state_backend.read_now()
            finally:
                close = getattr(state_backend, "aclose", None)
                if close is not None:
                    await close()

        try:
            state_backend = make_backend(registry, backend, var_name, file_path, redis_url)
            if new_value is not None:
                require_writable(state_backend)
            value = anyio.run(apply)
        except OSError as exc:
            fail(f"Cannot {action}: {exc}")
        except (CliError, MaintenanceError, ValueError) as exc:
            fail(str(exc) or type(exc).__name__)
        print_status(value, state_backend)

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

    @app.command()
    def status(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
    ) -> None:
        """Show whether maintenance mode is on."""
        run(backend, var_name, file_path, redis_url, None)

    @app.command()
    def on(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
    ) -> None:
        """Turn maintenance mode on (writable backends only: file, redis)."""
        run(backend, var_name, file_path, redis_url, True)

    @app.command()
    def off(
        backend: BackendOption = None,
        var_name: VarNameOption = None,
        file_path: FilePathOption = None,
        redis_url: RedisUrlOption = None,
    ) -> None:
        """Turn maintenance mode off (writable backends only: file, redis)."""
        run(backend, var_name, file_path, redis_url, False)

    return app
