"""The FastAPI application of ``salbox serve``: the HTTP API and the page.

``create_app(provider, ...)`` builds it around a :class:`~salbox.serve.models.ModelProvider`
(tests pass one whose models are already loaded). Routes:

* ``GET /``: the page (``page.html``: plain HTML and JavaScript, nothing from the network);
* ``GET /api/models``: the models, which one is the default, which can run here;
* ``POST /api/saliency``: multipart ``file`` (+ optional ``model``, ``crf=true|false``) ->
  ``image/png``, the 8-bit saliency map at the photo's size;
* ``POST /api/cutout``: the same fields -> ``image/png``, the photo as RGBA with the map as alpha.

Errors are JSON ``{"detail": "one line"}``: 400 (empty, corrupt or non-image file, unknown
model), 413 (upload above ``max_upload_mb``, image above ``max_pixels``), 422 (missing ``file``,
bad ``crf``), 503 (model not installed here), 500 (anything else: the server stays up).
"""
import logging
import os.path as osp
import threading

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from salbox.utils.errors import SalboxError
from .models import ModelProvider
from .predict import UploadError, cutout_png, decode_upload, map_png, predict

logger = logging.getLogger('salbox.serve')
PAGE = osp.join(osp.dirname(osp.abspath(__file__)), 'page.html')
# Multipart framing around the file (boundaries, part headers, the small form fields).
FORM_OVERHEAD = 64 * 1024
MI_PROMOTER_REASON = (
    'The MI promoter needs a fitted promoter checkpoint, and salbox ships none (no weights can '
    'be bundled); its online mode fits a head per photo, minutes on a CPU. Fit one and promote '
    'maps offline with tools/promote.py (configs/mi_promoter/README.md).')


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuses a request body above ``max_bytes`` with 413 before it is read
    (``Content-Length``) or as soon as the stream passes the limit (chunked uploads)."""

    def __init__(self, app, max_bytes: int, max_upload_mb: float):
        self.app = app
        self.max_bytes = max_bytes
        self.message = (f'the upload is larger than this server\'s limit of {max_upload_mb:g} MB '
                        '(--max-upload-mb)')

    async def _refuse(self, send):
        response = JSONResponse({'detail': self.message}, status_code=413,
                                headers={'Connection': 'close'})
        await response({'type': 'http'}, None, send)

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        length = dict(scope['headers']).get(b'content-length')
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message['type'] == 'http.response.start'
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)


def _form_bool(value, name: str) -> bool:
    if value is None or value == '':
        return False
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'on'):
        return True
    if text in ('false', '0', 'no', 'off'):
        return False
    raise UploadError(422, f'form field {name!r} must be true or false, got {value!r}')


def create_app(provider: ModelProvider, max_upload_mb: float = 20,
               max_pixels: int = 40_000_000, max_jobs: int = 2) -> FastAPI:
    """The app. ``max_jobs`` bounds the photos decoded or processed at once (memory); model
    calls are serialised per model by the provider's locks."""
    app = FastAPI(title='salbox serve', summary='Saliency maps and cut-outs of photos',
                  docs_url='/docs', redoc_url=None)
    app.state.provider = provider
    app.state.max_pixels = int(max_pixels)
    app.state.max_upload_mb = max_upload_mb
    jobs = threading.BoundedSemaphore(max_jobs)
    page = open(PAGE, encoding='utf-8').read()

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, err: UploadError):
        return JSONResponse({'detail': err.message}, status_code=err.status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception):  # the server stays up
        logger.exception('unexpected error on %s', request.url.path)
        return JSONResponse({'detail': f'internal error: {type(err).__name__}: {err}'},
                            status_code=500)

    @app.get('/', response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(page)

    @app.get('/api/models')
    async def models():
        """The models this server offers, the default one, and the post-processors."""
        return dict(default=provider.default, models=provider.describe(),
                    postprocessors=[
                        dict(name='crf', label='DenseCRF', available=True,
                             description="fully connected CRF on the map and the photo "
                                         "(R3Net's parameters)"),
                        dict(name='mi_promoter', label='MI promoter', available=False,
                             reason=MI_PROMOTER_REASON)],
                    limits=dict(max_upload_mb=max_upload_mb, max_pixels=int(max_pixels)))

    async def run(request: Request, kind: str) -> Response:
        try:
            form = await request.form(max_files=1, max_fields=8)
        except _TooLarge:
            raise
        except Exception as err:  # not multipart, broken framing
            raise UploadError(400 if 'multipart' in request.headers.get('content-type', '')
                              else 422, f'the request body is not a valid multipart form '
                              f'with a file field: {err}') from None
        upload = form.get('file')
        if upload is None:
            raise UploadError(422, "missing form field 'file' (the photo, sent as "
                              'multipart/form-data)')
        if not isinstance(upload, UploadFile):
            raise UploadError(422, "form field 'file' must be a file upload, not text")
        crf = _form_bool(form.get('crf'), 'crf')
        name = form.get('model') or provider.default
        if name not in provider.specs:
            raise UploadError(400, f'unknown model {name!r}; this server offers '
                              f'{", ".join(provider.names())} (GET /api/models)')
        data = await upload.read()
        await form.close()

        def work():
            with jobs:
                image = decode_upload(data, upload.filename, app.state.max_pixels)
                try:
                    loaded = provider.get(name)
                except SalboxError as err:
                    raise UploadError(503, str(err)) from None
                prediction = predict(loaded, image, crf=crf)
                body = (map_png if kind == 'saliency' else cutout_png)(prediction)
                return body, prediction

        body, prediction = await run_in_threadpool(work)
        stem = osp.splitext(osp.basename(upload.filename or 'photo'))[0] or 'photo'
        stem = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in stem)
        suffix = 'map' if kind == 'saliency' else 'cutout'
        height, width = prediction.sal_map.shape
        return Response(body, media_type='image/png', headers={
            'Content-Disposition': f'inline; filename="{stem}_{suffix}.png"',
            'X-Salbox-Model': name, 'X-Salbox-CRF': str(crf).lower(),
            'X-Salbox-Model-Ms': f'{prediction.model_ms:.1f}',
            'X-Salbox-Size': f'{width}x{height}'})

    @app.post('/api/saliency', response_class=Response,
              responses={200: {'content': {'image/png': {}},
                               'description': 'the 8-bit saliency map'}})
    async def saliency(request: Request):
        """Multipart ``file`` (+ ``model``, ``crf``) -> the saliency map as an 8-bit PNG."""
        return await run(request, 'saliency')

    @app.post('/api/cutout', response_class=Response,
              responses={200: {'content': {'image/png': {}},
                               'description': 'the photo as RGBA, the map as alpha'}})
    async def cutout(request: Request):
        """Multipart ``file`` (+ ``model``, ``crf``) -> the RGBA cut-out as a PNG."""
        return await run(request, 'cutout')

    app.add_middleware(BodyLimit, max_bytes=int(max_upload_mb * 2**20) + FORM_OVERHEAD,
                       max_upload_mb=max_upload_mb)
    return app
