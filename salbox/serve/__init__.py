"""``salbox serve``: saliency maps and cut-outs over HTTP, with a web page (docs/serve.md).

``main(argv)`` is the command; ``create_app(provider)`` builds the FastAPI app around a
``ModelProvider``. FastAPI and uvicorn are optional (``requirements/serve.txt``): they are
imported only when the app is built.
"""
from .models import ZOO, ModelProvider, ModelSpec
from .run import main


def create_app(*args, **kwargs):
    from .app import create_app as build
    return build(*args, **kwargs)


__all__ = ['main', 'create_app', 'ModelProvider', 'ModelSpec', 'ZOO']
