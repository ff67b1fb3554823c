"""Apps served by uvicorn in the load tests."""

APP_NAME = "load-toggled"  # in every answer of the app's own handlers
