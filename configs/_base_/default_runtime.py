# Runtime defaults shared by every salbox config (after MMSeg's configs/_base_/default_runtime.py).
default_scope = 'salbox'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'auto': nccl when torch sees CUDA GPUs, else gloo (salbox.apis.runner_utils,
    # docs/distributed.md); name a backend to force it.
    dist_cfg=dict(backend='auto'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SalLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
