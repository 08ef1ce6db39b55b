"""The web application: pages and a JSON API over the same library functions.

``create_app(store_url)`` builds the FastAPI application; ``serve`` runs it with uvicorn
(``cnotrack serve``). See docs/web.md.
"""

from .app import SECURITY_HEADERS, create_app
from .server import serve

__all__ = ["SECURITY_HEADERS", "create_app", "serve"]
