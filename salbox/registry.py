"""salbox registries: children of mmengine's root registries.

Each child names the package that registers into it (``locations``), so a config that says
``type='SaliencyDetector'`` resolves without any manual import, exactly as MMSegmentation's
``mmseg/registry/registry.py`` does it. The scope of every registry here is ``salbox``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# Runner, loops and samplers come from mmengine unchanged.
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS)
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS)
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['salbox.engine'])

# Data.
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['salbox.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      locations=['salbox.datasets.transforms'])

# Models: backbones, necks, heads, refiners, post-processors, detectors, losses, preprocessor.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['salbox.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS,
                          locations=['salbox.models'])
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['salbox.models'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['salbox.models'])

# Optimisation.
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['salbox.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
                          locations=['salbox.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor',
                                      parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      locations=['salbox.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS,
                            locations=['salbox.engine'])

# Evaluation.
# The modules that register, not their packages: salbox.evaluation and salbox.visualization
# export their mmengine classes lazily so that the metric tools never import torch.
METRICS = Registry('metric', parent=MMENGINE_METRICS,
                   locations=['salbox.evaluation.sod_metric'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR,
                     locations=['salbox.evaluation.sod_metric'])

# Visualisation and logging.
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS,
                       locations=['salbox.visualization.visualizer'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS,
                       locations=['salbox.visualization'])
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS,
                          locations=['salbox.visualization'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS, locations=['salbox.apis'])
