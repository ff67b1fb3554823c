"""A FastAPI app without the middleware, configuring the default backend at import."""

import os

import fastapi_maintenance
from fastapi import FastAPI

fastapi_maintenance.configure_backend("file", file_path=os.environ["CLI_TEST_STATE_FILE"])

app = FastAPI()
