"""Running the web application with uvicorn, logging paths only (never bodies or query strings)."""

from __future__ import annotations

import logging

__all__ = ["LOG_CONFIG", "serve"]

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


def serve(store_url: str | None = None, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web application over the database at ``store_url`` until interrupted."""
    import uvicorn

    from .app import create_app

    app = create_app(store_url)
    logging.getLogger("cnotrack.web").info("cnotrack web on http://%s:%d (database %s)", host, port,
                                           app.state.store.url.split("@")[-1])
    uvicorn.run(app, host=host, port=port, log_config=LOG_CONFIG, access_log=False, proxy_headers=True,
                server_header=False)
