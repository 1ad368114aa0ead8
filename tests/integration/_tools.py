"""Run a tools/*.py ``main`` in a forked child: the child inherits the imported torch, mmengine
and salbox, so a run costs no interpreter start-up (each fork is still a separate process with
its own mmengine state, exactly like a fresh ``python tools/X.py``)."""
import importlib.util
import multiprocessing as mp
import os
import os.path as osp
import socket
import sys
import traceback

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HERE = osp.dirname(osp.abspath(__file__))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _child(tool, argv, env, cwd, log):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = os.fdopen(1, 'w', buffering=1)  # pytest swapped the Python-level streams
    sys.stderr = os.fdopen(2, 'w', buffering=1)
    os.environ.update(env)
    os.chdir(cwd)
    sys.path.insert(0, HERE)  # the config's custom_imports (_dist_hooks)
    code = 0
    try:
        spec = importlib.util.spec_from_file_location(f'salbox_tool_{tool}',
                                                      osp.join(REPO, 'tools', f'{tool}.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.run_friendly(lambda: module.main(argv))
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
    except BaseException:  # noqa: B902 - report anything, the parent reads the log
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def start_tool(tool, argv, cwd, log, env=None):
    process = mp.get_context('fork').Process(target=_child,
                                             args=(tool, list(argv), env or {}, str(cwd), str(log)))
    process.start()
    return process


def run_tools(jobs, timeout=300):
    """Start every ``(tool, argv, cwd, log, env)`` job at once, wait, return exit codes."""
    processes = [start_tool(*job) for job in jobs]
    codes = []
    for process in processes:
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
        codes.append(process.exitcode)
    return codes


def dist_env(rank, world_size, port):
    return dict(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                LOCAL_WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1',
                MASTER_PORT=str(port))
