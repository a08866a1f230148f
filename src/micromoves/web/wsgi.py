"""The ASGI application object for uvicorn (``micromoves.web.wsgi:app``), configured from Settings."""

from micromoves.web.app import create_app

app = create_app()
