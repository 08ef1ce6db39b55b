"""Running the web application with uvicorn, logging paths only (never bodies or query strings)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import logging.config
from collections.abc import Sequence

__all__ = ["LOG_CONFIG", "parse_forwarded_allow_ips", "serve"]

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # uvicorn's access log prints the query string: cnotrack's own (method, path, status) replaces it
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "cnotrack.web": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def parse_forwarded_allow_ips(value: str | None) -> list[str]:
    """The trusted proxies of ``--forwarded-allow-ips`` (comma-separated IP addresses or networks);
    ``UserError`` for anything else (``*`` included: name the proxies)."""
    from ..errors import UserError

    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise UserError(f"--forwarded-allow-ips: {item!r} is not an IP address or network (like 127.0.0.1, "
                            "::1 or 10.0.0.0/8); list the addresses of your reverse proxies, "
                            "comma-separated") from None
    return items


def serve(store_url: str | None = None, host: str = "127.0.0.1", port: int = 8000, *,
          idle_timeout: dt.timedelta | None = None, forwarded_allow_ips: Sequence[str] = ()) -> None:
    """Serve the web application over the database at ``store_url`` until interrupted.

    ``X-Forwarded-For``/``-Proto`` are believed only from ``forwarded_allow_ips`` (none by
    default: the address that the login throttle counts is then always the connection's peer)."""
    import uvicorn

    from .app import create_app
    from ..store.label import database_label
    from .auth import IDLE_TIMEOUT

    logging.config.dictConfig(LOG_CONFIG)  # uvicorn.run applies it too, but only once it starts
    app = create_app(store_url, idle_timeout=idle_timeout or IDLE_TIMEOUT, forwarded_allow_ips=forwarded_allow_ips)
    log = logging.getLogger("cnotrack.web")
    log.info("cnotrack web on http://%s:%d (%s)", host, port, database_label(app.state.store.url))
    log.info("trusting X-Forwarded-For from %s; sessions end after %d idle minutes",
             ", ".join(forwarded_allow_ips) or "nobody (no proxy)", app.state.idle_timeout.total_seconds() // 60)
    # proxy headers are handled by create_app (only from the proxies named), never by uvicorn's
    # default, which believes every client on 127.0.0.1
    uvicorn.run(app, host=host, port=port, log_config=LOG_CONFIG, access_log=False, proxy_headers=False,
                server_header=False)
