"""Installs mae_mm: `pip install -e .` (the stack itself: `bash tools/install.sh`)."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(path):
    """Reads a requirements file, dropping comments and blank lines."""
    with open(osp.join(HERE, path)) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'mae_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mae_mm',
    version=read_version(),
    description='Masked Autoencoders (MAE) for the OpenMMLab toolboxes',
    long_description=open(osp.join(HERE, 'README.md')).read() if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mae_mm', 'mae_mm.*']),
    package_data={'mae_mm.datasets.class_lists': ['*.txt']},  # the published class lists (robustness sets)
    python_requires='>=3.9',
    install_requires=read_requirements('requirements.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        # visualiser backends of tools/train.py --vis (mmengine's TensorboardVisBackend, WandbVisBackend)
        'tensorboard': ['tensorboard>=2.9'],
        'wandb': ['wandb>=0.15'],
    },
    zip_safe=False,
)
