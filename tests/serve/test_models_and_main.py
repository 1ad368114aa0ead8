"""The model cache (one load per name under concurrent first requests) and ``main``'s one-line
errors, without loading a network."""
import socket
import threading
import time

import pytest

from salbox.serve import ZOO, ModelProvider, ModelSpec
from salbox.utils.errors import SalboxError


def test_concurrent_first_requests_load_a_model_once(monkeypatch):
    import salbox.apis
    calls = []

    def slow_init(config, checkpoint, device='cpu'):
        calls.append(checkpoint)
        time.sleep(0.2)
        return object()
    monkeypatch.setattr(salbox.apis, 'init_model', slow_init)
    provider = ModelProvider({'a': ModelSpec('a', ZOO['u2netp'].config, 'pip://x'),
                              'b': ModelSpec('b', ZOO['u2netp'].config, 'pip://y')}, default='a')
    got = []
    threads = [threading.Thread(target=lambda n=n: got.append(provider.get(n)))
               for n in ['a', 'b', None, 'a', 'b', None]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == ['pip://x', 'pip://y']
    assert len({id(g) for g in got}) == 2  # three answers share each loaded model
    with pytest.raises(KeyError):
        provider.get('c')


def test_missing_files_are_reported_without_loading(tmp_path):
    provider = ModelProvider({'m': ModelSpec('m', str(tmp_path / 'no.py'), 'pip://u2netp')},
                             default='m')
    with pytest.raises(SalboxError, match='config not found'):
        provider.get()
    assert 'config not found' in provider.describe()[0]['reason']
    with pytest.raises(SalboxError, match="unknown model 'x'"):
        ModelProvider(default='x')


def test_main_errors_are_one_line(capsys):
    pytest.importorskip('uvicorn')
    pytest.importorskip('fastapi')
    from salbox.serve import main
    with pytest.raises(SystemExit) as exit_info:
        main(['--model', 'nope'])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == "error: unknown model 'nope'; known: u2netp, u2net"
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit):
            main(['--port', str(port)])
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: cannot listen on 127.0.0.1:{port}') and '\n' not in err
    with pytest.raises(SystemExit):
        main(['--config', 'x.py'])
    assert '--config and --checkpoint go together' in capsys.readouterr().err
