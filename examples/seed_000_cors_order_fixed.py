"""Advanced Usage > "Integration with Other Middleware", in the order that works (seed 000).

The docs' example adds CORSMiddleware before MaintenanceModeMiddleware and
claims maintenance responses keep their CORS headers; in Starlette the
middleware added last is the outermost, so that order leaves the 503 without
them (see ``seed_000_cors_order_as_documented.py``). Adding
MaintenanceModeMiddleware FIRST and CORSMiddleware after it makes CORS the
outer layer: the 503 passes through CORSMiddleware and gets
``access-control-allow-origin``, and CORS preflight requests are answered by
CORSMiddleware even during maintenance.

Run:

    FASTAPI_MAINTENANCE_MODE=1 uv run uvicorn examples.seed_000_cors_order_fixed:app

    curl -i -H 'Origin: https://example.com' localhost:8000/

Completed beyond the docs: the ordinary ``GET /`` endpoint.
"""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()

# The middleware added last runs first: add the maintenance middleware first,
# so CORSMiddleware wraps it and also handles the maintenance responses.
app.add_middleware(MaintenanceModeMiddleware)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
)


# Not in the docs: an ordinary endpoint, blocked while maintenance is on.
@app.get("/")
async def root():
    return {"message": "Hello World"}
