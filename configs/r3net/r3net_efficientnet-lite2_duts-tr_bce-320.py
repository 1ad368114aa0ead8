# r3net_efficientnet-lite2_duts-tr_structure-320.py with R3Net's own loss (plain BCE with weight
# 1 on each of the seven outputs, the official train.py) instead of F3Net's structure loss: the
# ablation that says what the structure loss buys on DUTS-TE/ECSSD/PASCAL-S
# (configs/r3net/README.md, "DUTS-TR recipe": every metric on every set is lower with BCE).
_base_ = ['./r3net_efficientnet-lite2_duts-tr_structure-320.py']
model = dict(loss=dict(_delete_=True, type='DeepSupervisionLoss',
                       losses=[dict(type='BCELoss')]))
