"""``salbox serve``: the web page / HTTP API lives in ``salbox/serve/`` (its ``main(argv)``),
imported only here, so a machine without the web packages gets one line saying what to
install."""
from salbox.utils.errors import SalboxError


def main(argv=None) -> int:
    import importlib.util
    if importlib.util.find_spec('fastapi') is None:
        raise SalboxError('`salbox serve` needs fastapi: pip install fastapi uvicorn')
    try:
        from salbox.serve import main as serve_main
    except ImportError as err:
        if getattr(err, 'name', '') and err.name.startswith('salbox.serve'):
            raise SalboxError('`salbox serve` is not in this salbox version') from None
        raise SalboxError(f'`salbox serve` cannot start: {err} (pip install -e .[serve])') \
            from None
    return int(serve_main(list(argv or [])) or 0)

