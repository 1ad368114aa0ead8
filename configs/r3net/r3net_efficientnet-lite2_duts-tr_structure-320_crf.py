# r3net_efficientnet-lite2_duts-tr_structure-320.py with R3Net's test-time DenseCRF (the official
# infer.py: crf_refine on the 8-bit map, truncated as its to_pil makes it; settings in
# configs/_base_/models/r3net_resnext101.py): the "+ DenseCRF" row of the DUTS-TR table
# (configs/r3net/README.md). Same checkpoint, no training of its own:
#   python tools/test.py configs/r3net/r3net_efficientnet-lite2_duts-tr_structure-320_crf.py \
#       work_dirs/r3net_efficientnet-lite2_duts-tr_structure-320/iter_750.pth
_base_ = ['./r3net_efficientnet-lite2_duts-tr_structure-320.py']
model = dict(postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')])
