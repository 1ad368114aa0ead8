# U²-Netp (the small U²-Net: every stage 16 mid / 64 out channels, official U2NETP) with the
# same recipe as u2net_duts-tr.py (u2net_train.py with model_name='u2netp').
_base_ = ['./u2net_duts-tr.py']
model = dict(backbone=dict(arch='small'), head=dict(in_channels=(64, ) * 6))
