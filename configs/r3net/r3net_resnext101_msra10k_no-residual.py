# Table 1 ablation "R3Net w/o r" (Deng et al., IJCAI 2018, §4.3): the paper recipe with residual=False.
_base_ = ['./r3net_resnext101_msra10k.py']
model = dict(head=dict(residual=False))
