"""Apps the fault tests serve with uvicorn."""
