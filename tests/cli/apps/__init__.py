"""Small real apps for the command line tests, imported by ``--app`` and served by uvicorn.

Each reads where its state lives from the environment: ``CLI_TEST_STATE_FILE``
(a state file) or ``CLI_TEST_REDIS_URL`` (a Redis URL).
"""
