# r3net_efficientnet-lite0_pascal-s.py tested with R3Net's DenseCRF step (R3Net infer.py:
# crf_refine with sxy 3 / compat 3 and sxy 60 / srgb 5 / compat 5). Same training; use it with
# tools/test.py or tools/infer.py and a checkpoint of the base config.
_base_ = ['./r3net_efficientnet-lite0_pascal-s.py']
model = dict(postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')])
