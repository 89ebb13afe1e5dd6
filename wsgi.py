"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app`."""

from bcd_app import create_app

app = create_app()
