"""Advanced Usage > "Integration with Other Middleware", in the docs' order (seed 000).

CORSMiddleware is added first and MaintenanceModeMiddleware second. The docs
claim maintenance responses "will still have proper CORS headers" with this
order. They do not: Starlette runs the middleware added LAST as the outermost
one, so the maintenance middleware answers 503 before the request ever reaches
CORSMiddleware, and the 503 has no ``access-control-allow-origin`` header (a
browser then reports a CORS error instead of the 503). See
``seed_000_cors_order_fixed.py`` for the order that works.

Run:

    FASTAPI_MAINTENANCE_MODE=1 uv run uvicorn examples.seed_000_cors_order_as_documented:app

    curl -i -H 'Origin: https://example.com' localhost:8000/

Completed beyond the docs: the ordinary ``GET /`` endpoint.
"""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_maintenance import MaintenanceModeMiddleware

app = FastAPI()

# Add middleware in the desired order (executed from bottom to top)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
)
app.add_middleware(MaintenanceModeMiddleware)

# Other middleware
# ...


# Not in the docs: an ordinary endpoint, blocked while maintenance is on.
@app.get("/")
async def root():
    return {"message": "Hello World"}
