"""Advanced Usage > "Custom Backends with External Services" (docs seed 000).

``APIBackend`` keeps the maintenance state in an external HTTP service:
``GET {api_url}/maintenance`` answers ``{"active": true|false}`` and
``POST {api_url}/maintenance`` with ``{"active": ...}`` stores it.

Needs aiohttp, which is not a dependency of fastapi-maintenance:

    MAINTENANCE_API_URL=http://127.0.0.1:9000 \\
        uv run --with aiohttp uvicorn examples.seed_000_custom_backend_api:app

Completed beyond the docs (which only show the class): the small app at the
bottom that uses the backend, configured by ``MAINTENANCE_API_URL`` and
``MAINTENANCE_API_KEY``.
"""

import os
from typing import Optional

import aiohttp
from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware
from fastapi_maintenance.backends import BaseStateBackend


class APIBackend(BaseStateBackend):
    """
    Store maintenance mode state in an external API.
    """

    def __init__(self, api_url: str, api_key: Optional[str] = None) -> None:  # noqa: UP045 (as documented)
        self.api_url = api_url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def get_value(self) -> bool:
        async with aiohttp.ClientSession() as session:  # noqa: SIM117 (as documented)
            async with session.get(
                f"{self.api_url}/maintenance", headers=self._headers
            ) as response:
                if response.status == 200:
                    data = await response.json()
                    return self._str_to_bool(str(data.get("active", False)))
                return False

    async def set_value(self, value: bool) -> None:
        async with aiohttp.ClientSession() as session:
            await session.post(
                f"{self.api_url}/maintenance",
                json={"active": value},
                headers=self._headers,
            )


# Not in the docs: an app whose maintenance state lives in the external API.
backend = APIBackend(
    os.environ.get("MAINTENANCE_API_URL", "http://127.0.0.1:9000"),
    api_key=os.environ.get("MAINTENANCE_API_KEY"),
)

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware, backend=backend)


@app.get("/")
async def root():
    return {"message": "Hello World"}
