"""Datasets (folder pairs, one class per benchmark, synthetic) and their transforms."""
from .sal_dataset import SalientObjectDataset
from .sod_benchmarks import (DUTOMRONDataset, DUTSDataset, ECSSDDataset, HKUISDataset,
                             MSRA10KDataset, PASCALSDataset, SODDataset)
from .synthetic import SyntheticSalDataset, render_sample, write_synthetic_folder
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SalientObjectDataset', 'MSRA10KDataset', 'DUTSDataset', 'ECSSDDataset', 'HKUISDataset',
    'PASCALSDataset', 'SODDataset', 'DUTOMRONDataset', 'SyntheticSalDataset', 'render_sample',
    'write_synthetic_folder'
]
from .prior_dataset import LoadPriorMap, PackPriorInputs, PriorMapDataset  # noqa: E402

__all__ += ['PriorMapDataset', 'LoadPriorMap', 'PackPriorInputs']
