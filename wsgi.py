"""WSGI entry point: `gunicorn wsgi:app` and `flask --app wsgi ...`."""

from gateway import create_app
from gateway.errors import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line for the operator, not a traceback: the reason names the setting, never a secret.
    raise SystemExit(f"gateway: {error}") from None
