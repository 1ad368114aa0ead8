"""``salbox serve``'s HTTP API through FastAPI's TestClient, on scikit-image's real photos and
U²-Netp's official weights: what the answers contain, and every refusal's code and message."""
import struct
import zlib

import numpy as np
import pytest
from serve_helpers import decode_png, photo_bytes

pytest.importorskip('fastapi')
pytest.importorskip('httpx')


@pytest.fixture(scope='module')
def client(provider):
    from fastapi.testclient import TestClient

    from salbox.serve import create_app
    return TestClient(create_app(provider, max_upload_mb=1, max_pixels=250_000),
                      raise_server_exceptions=False)


def post(client, kind='cutout', name='astronaut', data=None, filename=None, **fields):
    data = photo_bytes(name) if data is None else data
    return client.post(f'/api/{kind}', files={'file': (filename or f'{name}.png', data)},
                       data=fields)


def test_map_is_bright_on_the_subject_and_dark_on_the_sky(single_answers):
    sal_map = decode_png(single_answers('saliency', 'astronaut'))
    assert sal_map.shape == (512, 512) and sal_map.dtype == np.uint8
    face, sky = sal_map[60:200, 170:280], sal_map[0:80, 400:]  # her face, the space behind
    assert face.mean() > 200 and sky.mean() < 10, (face.mean(), sky.mean())
    coffee = decode_png(single_answers('saliency', 'coffee'))
    assert coffee.shape == (400, 600)  # the photo's size, not the network's 320 x 320
    assert coffee[100:300, 150:450].mean() > 200 and coffee[:60, :100].mean() < 10


def test_cutout_is_the_photo_with_the_map_as_alpha(single_answers):
    import cv2
    from serve_helpers import photo_path
    cut = decode_png(single_answers('cutout', 'astronaut'))
    assert cut.shape == (512, 512, 4)
    np.testing.assert_array_equal(cut[..., :3], cv2.imread(photo_path('astronaut')))
    np.testing.assert_array_equal(cut[..., 3], decode_png(single_answers('saliency', 'astronaut')))


def test_answer_headers_and_page(client):
    response = post(client, 'saliency', 'chelsea')
    assert response.status_code == 200 and response.headers['content-type'] == 'image/png'
    assert response.headers['x-salbox-model'] == 'u2netp'
    assert response.headers['x-salbox-size'] == '451x300'
    assert 'chelsea_map.png' in response.headers['content-disposition']
    page = client.get('/')
    assert page.status_code == 200 and 'id="file"' in page.text
    assert 'http://' not in page.text and 'https://' not in page.text  # nothing from a CDN


def test_models_lists_the_zoo_crf_and_why_the_promoter_is_off(client):
    info = client.get('/api/models').json()
    assert info['default'] == 'u2netp'
    u2netp = next(m for m in info['models'] if m['name'] == 'u2netp')
    assert u2netp['available'] and u2netp['loaded']
    post_processors = {p['name']: p for p in info['postprocessors']}
    assert post_processors['crf']['available']
    assert not post_processors['mi_promoter']['available']
    assert 'checkpoint' in post_processors['mi_promoter']['reason']
    assert info['limits'] == dict(max_upload_mb=1, max_pixels=250_000)


def test_dense_crf_changes_the_map_and_keeps_the_subject(client, single_answers):
    response = post(client, 'saliency', 'coffee', crf='true')
    assert response.status_code == 200 and response.headers['x-salbox-crf'] == 'true'
    refined = decode_png(response.content)
    plain = decode_png(single_answers('saliency', 'coffee'))
    assert refined.shape == plain.shape and not np.array_equal(refined, plain)
    assert refined[100:300, 150:450].mean() > 200 and refined[:60, :100].mean() < 10


def _png_header_only(width, height):
    """A PNG whose header says ``width`` x ``height`` (a decompression bomb's first bytes)."""
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    chunk = b'IHDR' + ihdr
    return (b'\x89PNG\r\n\x1a\n' + struct.pack('>I', len(ihdr)) + chunk
            + struct.pack('>I', zlib.crc32(chunk)))


@pytest.mark.parametrize('case, status, words', [
    ('text', 400, ["'notes.txt'", 'not an image']),
    ('truncated_jpeg', 400, ["'chelsea.jpg'", 'truncated JPEG']),
    ('empty', 400, ["'empty.png'", 'empty (0 bytes)']),
    ('header_bomb', 413, ['100000x100000', '--max-pixels']),
    ('too_many_pixels', 413, ['512x512', '0.25 MP']),  # the client allows 250,000 pixels
    ('too_large_upload', 413, ['1 MB', '--max-upload-mb']),
    ('missing_file', 422, ["missing form field 'file'"]),
    ('file_as_text', 422, ["'file' must be a file upload"]),
    ('bad_crf', 422, ["'crf' must be true or false"]),
    ('unknown_model', 400, ["unknown model 'nope'", 'u2netp']),
])
def test_refusals_name_the_problem_and_the_server_goes_on(client, case, status, words):
    if case == 'text':
        response = post(client, data=b'not a photo\n', filename='notes.txt')
    elif case == 'truncated_jpeg':
        import cv2
        from serve_helpers import photo_path
        jpeg = cv2.imencode('.jpg', cv2.imread(photo_path('chelsea')))[1].tobytes()
        response = post(client, data=jpeg[:len(jpeg) // 2], filename='chelsea.jpg')
    elif case == 'empty':
        response = post(client, data=b'', filename='empty.png')
    elif case == 'header_bomb':
        response = post(client, data=_png_header_only(100_000, 100_000), filename='bomb.png')
    elif case == 'too_many_pixels':
        response = post(client)
    elif case == 'too_large_upload':
        response = post(client, data=b'\0' * (2 << 20), filename='big.png')
    elif case == 'missing_file':
        response = client.post('/api/cutout', data={'crf': 'false'})
    elif case == 'file_as_text':
        response = client.post('/api/saliency', data={'file': 'astronaut.png'})
    elif case == 'bad_crf':
        response = post(client, 'saliency', 'chelsea', crf='maybe')
    else:
        response = post(client, 'saliency', 'chelsea', model='nope')
    assert response.status_code == status, response.text
    detail = response.json()['detail']
    assert '\n' not in detail and 'Traceback' not in detail
    for word in words:
        assert word in detail, detail
    assert 'salbox-serve-' not in detail  # the temporary file is never named


def test_chunked_upload_above_the_limit_is_refused(client):
    boundary = b'salboxboundary'

    def body():  # no Content-Length: the server counts the bytes as they come
        yield (b'--' + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
               b'filename="big.png"\r\nContent-Type: image/png\r\n\r\n')
        for _ in range(40):
            yield b'\0' * 65536
        yield b'\r\n--' + boundary + b'--\r\n'
    response = client.post('/api/cutout', content=body(), headers={
        'content-type': 'multipart/form-data; boundary=salboxboundary'})
    assert response.status_code == 413 and '--max-upload-mb' in response.json()['detail']


def test_unavailable_model_is_503_and_unexpected_errors_are_500(provider, monkeypatch):
    from fastapi.testclient import TestClient

    from salbox.serve import ModelProvider, ModelSpec, create_app
    specs = dict(provider.specs, missing=ModelSpec('missing', provider.specs['u2netp'].config,
                                                   '/nonexistent/weights.pth'))
    other = ModelProvider(specs)
    other._loaded = provider._loaded  # U²-Netp already loaded
    client = TestClient(create_app(other), raise_server_exceptions=False)
    response = post(client, 'saliency', 'chelsea', model='missing')
    assert response.status_code == 503
    assert 'checkpoint not found: /nonexistent/weights.pth' in response.json()['detail']
    listed = {m['name']: m for m in client.get('/api/models').json()['models']}
    assert not listed['missing']['available'] and 'not found' in listed['missing']['reason']

    import salbox.serve.app as app_module

    def broken(*args, **kwargs):
        raise RuntimeError('simulated failure')
    monkeypatch.setattr(app_module, 'predict', broken)
    response = post(client, 'saliency', 'chelsea')
    assert response.status_code == 500 and 'simulated failure' in response.json()['detail']
    monkeypatch.undo()
    assert post(client, 'saliency', 'chelsea').status_code == 200  # still serving


def test_exif_orientation_is_applied_as_tools_infer_does(client):
    import io

    from PIL import Image
    from serve_helpers import photo_path
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: "rotate 90 degrees clockwise to view"
    Image.open(photo_path('chelsea')).convert('RGB').save(buffer, 'JPEG', exif=exif)
    response = post(client, 'saliency', data=buffer.getvalue(), filename='sideways.jpg')
    assert response.status_code == 200
    assert response.headers['x-salbox-size'] == '300x451'  # upright: the stored 451 x 300 turned
    assert decode_png(response.content).shape == (451, 300)
