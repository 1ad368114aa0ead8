"""Turn a config into its test-time-augmentation form (``tools/test.py --tta``,
``tools/infer.py --tta``), as MMSegmentation's ``tools/test.py`` does: the model is wrapped in
``tta_model`` and every test data set uses ``tta_pipeline``."""
import copy

from mmengine.config import Config

from salbox.utils.errors import SalboxError


def _test_datasets(dataset: dict):
    """The dataset dicts that carry a pipeline (ConcatDataset members included)."""
    if 'datasets' in dataset:
        for member in dataset['datasets']:
            yield from _test_datasets(member)
    else:
        yield dataset


def use_tta(cfg: Config) -> Config:
    """Wrap ``cfg.model`` in ``cfg.tta_model`` and give every test data set ``cfg.tta_pipeline``
    (in place; returns ``cfg``). A clear error names what the config lacks."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if cfg.get(key) is None]
    if missing:
        raise SalboxError(f'--tta: the config defines no {" and no ".join(missing)} (see '
                          'docs/config.md, "Test-time augmentation")')
    tta_model = copy.deepcopy(cfg.tta_model)
    tta_model['module'] = cfg.model
    cfg.model = tta_model
    if cfg.get('test_dataloader') is not None:
        for dataset in _test_datasets(cfg.test_dataloader.dataset):
            dataset['pipeline'] = copy.deepcopy(cfg.tta_pipeline)
    return cfg
