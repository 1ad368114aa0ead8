"""inference_model builds the model's pipeline once, not once per image."""
import os.path as osp

import numpy as np
import torch

from salbox.apis import inference
from salbox.apis.inference import inference_model, init_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')


def test_pipeline_is_built_once_per_model_and_config(monkeypatch):
    builds = []
    build = inference.build_inference_pipeline
    monkeypatch.setattr(inference, 'build_inference_pipeline',
                        lambda cfg: builds.append(cfg) or build(cfg))
    torch.manual_seed(0)
    model = init_model(CONFIG, cfg_options={'model.postprocessors': []})
    photos = [np.random.default_rng(i).integers(0, 255, (40, 52, 3), dtype=np.uint8)
              for i in range(3)]
    first = [inference_model(model, photo).pred_sal_map.data for photo in photos]
    inference_model(model, photos)
    assert len(builds) == 1
    model.cfg = model.cfg.copy()  # a replaced config is read again
    again = inference_model(model, photos[0]).pred_sal_map.data
    assert len(builds) == 2
    torch.testing.assert_close(again, first[0], rtol=0, atol=0)
