# Table 1 ablation "R3Net w s" (Deng et al., IJCAI 2018, §4.3): the paper recipe with shared_weights=True.
_base_ = ['./r3net_resnext101_msra10k.py']
model = dict(head=dict(shared_weights=True))
