"""A FastAPI app whose middleware options are invalid: Starlette builds it only at the
first request, so the app imports fine."""

from fastapi import FastAPI
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()
app.add_middleware(MaintenanceModeMiddleware, on_state_error="sometimes")
