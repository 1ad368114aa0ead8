# Table 1 ablation "R3Net-LL" (Deng et al., IJCAI 2018, §4.3): the paper recipe with feature_order='LL'.
_base_ = ['./r3net_resnext101_msra10k.py']
model = dict(head=dict(feature_order='LL'))
