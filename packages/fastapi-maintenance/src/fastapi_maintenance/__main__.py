"""``python -m fastapi_maintenance``: the ``fastapi-maintenance`` command."""

from .cli import main

if __name__ == "__main__":
    main()
