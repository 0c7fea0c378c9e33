"""Reconstruction panels of a few fixed images while a masked autoencoder trains."""
from typing import Optional

import numpy as np
from mmengine.dataset import pseudo_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mae_mm.parallel import is_sharded, root_unsharded
from mae_mm.registry import DATASETS, HOOKS
from mae_mm.visualization import masking_noise, reconstruction_panel
from .random_state_hook import capture_random_state, restore_random_state


@HOOKS.register_module()
class ReconstructionVisHook(Hook):
    """Every ``interval`` epochs and at the end of training, draws the reconstruction panel of
    tools/visualize_reconstruction.py for the same few images under the same masking noise, and
    hands it to the runner's visualiser (``add_image(name, panel, step=epoch)``: a PNG under
    vis_data/vis_image/ with the local backend, an image in TensorBoard or W&B).

    The images are picked and the noise drawn (by the model's mask generator) from generators of their
    own seeded with ``seed``;
    the python, numpy and torch random states are put back after each panel, so the hook does
    not change training. Labels are not needed (a flat folder of images will do).

    Args:
        interval (int): Epochs between panels.
        num_images (int): Rows of the panel (at most the data set's size).
        dataset (dict, optional): Where the images come from (a dataset config, its pipeline
            giving the model's input size); by default the config's ``val_dataloader.dataset``.
        seed (int): Seed of the image choice and the masking noise.
        name (str): The visualiser's image name.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 10, num_images: int = 4, dataset: Optional[dict] = None,
                 seed: int = 0, name: str = 'reconstruction'):
        if interval < 1 or num_images < 1:
            raise ValueError(f'ReconstructionVisHook: interval ({interval}) and num_images ({num_images}) must be >= 1')
        self.interval, self.num_images, self.dataset_cfg = interval, num_images, dataset
        self.seed, self.name = seed, name
        self.batch = self.image_paths = self.noise = None
        self._drawn_at = -1

    def before_run(self, runner) -> None:
        cfg = self.dataset_cfg
        if cfg is None:
            loader = runner.cfg.get('val_dataloader') or runner.cfg.get('test_dataloader')
            if loader is None:
                raise ValueError('ReconstructionVisHook: no dataset given and the config has no '
                                 'val_dataloader/test_dataloader to take the images from')
            cfg = loader['dataset']
        state = capture_random_state()  # the pipeline may draw (a training pipeline)
        try:
            dataset = DATASETS.build(cfg)
            if self.num_images > len(dataset):
                raise ValueError(f'ReconstructionVisHook: num_images={self.num_images} but the dataset '
                                 f'holds {len(dataset)} images')
            rng = np.random.default_rng(self.seed)
            indices = sorted(rng.choice(len(dataset), self.num_images, replace=False).tolist())
            self.batch = pseudo_collate([dataset[i] for i in indices])
            self.image_paths = [dataset.get_data_info(i).get('img_path') for i in indices]
            self.noise = masking_noise(self._model(runner).encoder, self.num_images, self.seed)
        finally:
            restore_random_state(state)
        print_log(f'ReconstructionVisHook: panels of {self.image_paths} every {self.interval} epochs',
                  logger='current')

    @staticmethod
    def draws_here(runner) -> bool:
        """Rank 0 draws; for a sharded model every rank computes the panel with it (each holds a
        part of the weights), and the visualiser, rank 0's only, keeps it."""
        return is_main_process() or is_sharded(runner.model)

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def draw(self, runner, epoch: int) -> np.ndarray:
        """Draws the panel with the current weights and sends it to the visualiser at ``step=epoch``;
        returns it, (H, W, 3) uint8 RGB."""
        model = self._model(runner)
        state, was_training = capture_random_state(), model.training
        try:
            model.eval()
            imgs = model.data_preprocessor(self.batch, False)['inputs']
            with root_unsharded(model):
                panel = reconstruction_panel(model, imgs, self.noise)
        finally:
            model.train(was_training)
            restore_random_state(state)
        runner.visualizer.add_image(self.name, panel, step=epoch)
        self._drawn_at = epoch
        return panel

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) and self.draws_here(runner):
            self.draw(runner, runner.epoch + 1)

    def after_train(self, runner) -> None:
        if self._drawn_at != runner.epoch and self.draws_here(runner):
            self.draw(runner, runner.epoch)
