# R3Net -> MI promoter -> DenseCRF from one test config: the synthetic R3Net
# (configs/r3net/r3net_resnet18_synthetic.py) with its maps promoted by a fitted MI promoter
# and then refined by the dense CRF (post-processors run in order; the promoter may equally
# come after DenseCRF).
#
#   python tools/test.py configs/mi_promoter/r3net_resnet18_mi-promoter_densecrf_synthetic.py \
#       work_dirs/r3net_resnet18_synthetic/iter_400.pth
#
# The promoter checkpoint comes from tools/train.py with mi_promoter_mobilenetv2_synthetic.py
# (a runner checkpoint loads directly) or from tools/promote.py (its promoter.pth).
_base_ = ['../r3net/r3net_resnet18_synthetic.py']
promoter_checkpoint = 'work_dirs/mi_promoter_mobilenetv2_synthetic/iter_300.pth'
model = dict(postprocessors=[
    dict(type='MIPromoter', checkpoint=promoter_checkpoint),
    dict(type='DenseCRF'),
])
