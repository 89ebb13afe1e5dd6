"""Render deploy/nginx.conf.template: `python deploy/render_nginx.py LISTEN UPSTREAM PREFIX` prints the config."""

import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def render(listen: str, upstream: str, prefix: str) -> str:
    """The config for nginx on `listen`, proxying to gunicorn at `upstream`, keeping its files under `prefix`."""
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (Path(prefix) / folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    return TEMPLATE.read_text().replace("@LISTEN@", listen).replace("@UPSTREAM@", upstream).replace("@PREFIX@", prefix)


if __name__ == "__main__":
    print(render(*sys.argv[1:4]))
