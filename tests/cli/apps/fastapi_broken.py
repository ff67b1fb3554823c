"""An app module whose import fails, as with a missing setting."""

import os

DATABASE_URL = os.environ["CLI_TEST_DATABASE_URL_THAT_IS_NEVER_SET"]
