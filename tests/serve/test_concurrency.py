"""Concurrent requests to a live uvicorn server (in a thread) get their own photo's answer:
each equals the answer to that photo's lone request, byte for byte."""
import threading
import urllib.request

import pytest
from serve_helpers import multipart

pytest.importorskip('uvicorn')


def test_concurrent_requests_do_not_mix_results(live_server, single_answers):
    jobs = [(kind, name) for name in ('astronaut', 'coffee', 'chelsea')
            for kind in ('cutout', 'saliency')]
    expected = {job: single_answers(*job) for job in jobs}
    answers, errors = {}, []
    barrier = threading.Barrier(len(jobs))

    def fire(job):
        kind, name = job
        body, content_type = multipart(name)
        request = urllib.request.Request(f'{live_server}/api/{kind}', data=body,
                                         headers={'Content-Type': content_type})
        try:
            barrier.wait()
            with urllib.request.urlopen(request, timeout=120) as response:
                answers[job] = (response.status, response.read())
        except Exception as err:  # reported below with the job
            errors.append((job, err))
    threads = [threading.Thread(target=fire, args=(job, )) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for job in jobs:
        status, body = answers[job]
        assert status == 200 and body == expected[job], f'{job} got another answer'
