"""Generation and classification with a trained MSTDP run (``bioplastic generate``).

The MSTDP network's visible neurons are both its input and its output: clamping a
one-hot label from a random state makes the image neurons settle on a digit of
that class. :func:`generate_run` does this for every class, then lets the same
network classify its own digits (the fraction it labels as the class they were
generated from is a number for how recognisable they are), records a few
training loops for the paper's Fig. 1, and writes everything to
``OUT/generated.npz`` (atomically, like checkpoints).
"""

from pathlib import Path

import numpy as np

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import load_dataset

GENERATED = "generated.npz"

__all__ = ["load_trained", "generate_run", "classify_file", "GENERATED"]


def load_trained(out_dir):
    """``(config, module, model, state)`` of a run folder whose model can generate."""
    from .training import CHECKPOINT, MODELS, config_from_checkpoint
    out_dir = Path(out_dir)
    config = config_from_checkpoint(out_dir)
    module = MODELS[config.model]()
    if not hasattr(module, "generate_digits"):
        raise ValueError(f"{out_dir}: model '{config.model}' cannot generate or classify "
                         "images on its own; only mstdp can")
    arrays, meta = load_checkpoint(out_dir / CHECKPOINT)
    if not meta["progress"]["train"]["done"]:
        raise CheckpointError(f"{out_dir / CHECKPOINT}: training is not finished "
                              f"({meta['progress']['train']['position']} samples so far); "
                              "run the train command again to finish it")
    model = module.load_model(config.model_file, config.overrides)
    state = {key: arrays[key] for key in module.STATE_KEYS}
    return config, module, model, state


def generate_run(out_dir, per_label=10, device_name=None, seed=1, fixed_point_samples=6):
    """Generate ``per_label`` digits of every class and classify them.

    Returns
    -------
    dict
        ``images`` (n, 784), ``labels``, ``predictions`` (the network's answer for
        each generated image), ``accuracy`` (fraction answered with its own class),
        and the Fig. 1 records ``fixed_points`` (samples, 1 + 2 x cycles, 794),
        ``fixed_point_images`` and ``fixed_point_labels``.
    """
    config, module, model, state = load_trained(out_dir)
    device_name = device_name or config.device
    labels = np.repeat(np.arange(module.N_CLASSES), int(per_label))
    images = module.generate_digits(model, state, config.n_neurons, labels, device_name,
                                    seed, chunk_slots=config.chunk_slots)
    predictions = module.classify_images(model, state, config.n_neurons, images,
                                         device_name, seed, chunk_slots=config.chunk_slots)
    result = {"images": images, "labels": labels, "predictions": predictions,
              "accuracy": float(np.mean(predictions == labels))}
    if fixed_point_samples:
        train = load_dataset(config.dataset, "train", config.data_dir)
        rows = np.arange(int(fixed_point_samples))
        pictures = train.images[rows].reshape(len(rows), -1) / 255.0
        result["fixed_points"] = module.fixed_points(
            model, state, config.n_neurons, pictures, train.labels[rows], device_name, seed)
        result["fixed_point_images"] = pictures
        result["fixed_point_labels"] = train.labels[rows]
    save_checkpoint(Path(out_dir) / GENERATED,
                    {k: v for k, v in result.items() if k != "accuracy"},
                    {"accuracy": result["accuracy"], "per_label": int(per_label),
                     "seed": int(seed), "device": device_name})
    return result


def read_images(path):
    """Images from ``.npy`` or ``.npz`` (key ``images``), as (n, 784) floats in [0, 1]."""
    path = Path(path)
    labels = None
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                if "images" not in data.files:
                    raise ValueError(f"{path}: no 'images' array (found {', '.join(data.files)})")
                images = data["images"]
                labels = data["labels"] if "labels" in data.files else None
        else:
            images = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read images ({exc})") from None
    images = np.asarray(images, dtype=float)
    if images.ndim == 3:
        images = images.reshape(len(images), -1)
    if images.ndim != 2 or images.shape[1] != 784:
        raise ValueError(f"{path}: expected images of shape (n, 784) or (n, 28, 28), "
                         f"got {images.shape}")
    if images.max(initial=0) > 1.0:  # 0-255 pixel values
        images = images / 255.0
    return images, labels


def classify_file(out_dir, path, device_name=None, seed=1):
    """The trained network's answer for each image in ``path``; accuracy if labelled."""
    config, module, model, state = load_trained(out_dir)
    images, labels = read_images(path)
    predictions = module.classify_images(model, state, config.n_neurons, images,
                                         device_name or config.device, seed,
                                         chunk_slots=config.chunk_slots)
    accuracy = None if labels is None else float(np.mean(predictions == labels))
    return predictions, accuracy
