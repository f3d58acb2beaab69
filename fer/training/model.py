"""The emotion CNN: a compact VGG-style network for 48x48 grayscale faces.

`build_model` is a pure builder: no training, no I/O, no augmentation (see fer.training.augment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from fer.config import IMG_SIZE, NUM_CLASSES

MODEL_NAME = "emotion_cnn"


@dataclass(frozen=True)
class ModelConfig:
    """Every architecture setting; the defaults are the shipped model's."""

    widths: tuple[int, ...] = (32, 64, 128, 256)  # channels per stage; each stage halves H and W
    convs_per_stage: int = 2
    dense_units: int = 256
    dropout: float = 0.4  # before the classifier; stages use a quarter of it


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_model(config: ModelConfig = ModelConfig(), num_classes: int = NUM_CLASSES) -> keras.Model:
    """Builds the classifier.

    Input: float32 (N, 48, 48, 1) with raw pixel values 0..255 (rescaling is the first layer, so
    training and inference share one preprocessing path). Output: softmax probabilities (N, classes).
    """
    inputs = keras.Input((IMG_SIZE, IMG_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for stage, width in enumerate(config.widths, start=1):
        for conv in range(1, config.convs_per_stage + 1):
            x = _conv_bn_relu(x, width, name=f"s{stage}c{conv}")
        x = layers.MaxPooling2D(name=f"s{stage}_pool")(x)
        x = layers.SpatialDropout2D(config.dropout / 4, name=f"s{stage}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.dense_units, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = layers.Dropout(config.dropout, name="fc_drop")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name=MODEL_NAME)


def shrink(model: keras.Model, config: ModelConfig) -> keras.Model:
    """A narrower copy of `model` (built from `config`) that keeps, in every layer, the channels with the
    largest batch-norm scale |gamma| and their weights: a far better start for a faster student than
    random weights (see `fer.training.train --shrink`).

    Raises:
        ValueError: `config` differs from the model in anything but narrower widths.
    """
    student = build_model(config)
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    fc = model.get_layer("fc")
    if len(convs) != len(config.widths) * config.convs_per_stage or fc.units != config.dense_units:
        raise ValueError(f"cannot shrink {len(convs)} conv layers and fc {fc.units} to {config}")
    kept = np.arange(1)  # the input's one grey channel
    for conv in convs:
        name = conv.name.removesuffix("_conv")
        gamma, beta, mean, var = model.get_layer(f"{name}_bn").get_weights()
        width = student.get_layer(conv.name).filters
        if width > len(gamma):
            raise ValueError(f"{conv.name}: cannot widen {len(gamma)} channels to {width}")
        keep = np.sort(np.argsort(-np.abs(gamma), kind="stable")[:width])
        student.get_layer(conv.name).set_weights([conv.get_weights()[0][:, :, kept][..., keep]])
        student.get_layer(f"{name}_bn").set_weights([w[keep] for w in (gamma, beta, mean, var)])
        kept, channels = keep, len(gamma)
    # Flatten orders features (row, column, channel): keep the same channels at every position.
    kernel = fc.get_weights()[0]
    rows = (np.arange(kernel.shape[0] // channels)[:, None] * channels + kept[None, :]).ravel()
    student.get_layer("fc").set_weights([kernel[rows]])
    for name in ("fc_bn", "probs"):
        student.get_layer(name).set_weights(model.get_layer(name).get_weights())
    return student


def save_compact(model: keras.Model, path: Path, dtype: type = np.float16) -> None:
    """Saves architecture and weights in one .npz; float16 is half a .keras file's size, for warm restarts."""
    weights = {f"w{i:03d}": w.astype(dtype) for i, w in enumerate(model.get_weights())}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, architecture=np.array(model.to_json()), **weights)


def load_model_file(path: str | Path) -> keras.Model:
    """Loads an uncompiled model from a .keras file or a `save_compact` .npz (weights in float32)."""
    path = Path(path)
    if path.suffix != ".npz":
        return keras.models.load_model(path, compile=False)
    with np.load(path) as data:
        model = keras.models.model_from_json(str(data["architecture"]))
        model.set_weights([data[key].astype(np.float32) for key in sorted(data.files) if key.startswith("w")])
    return model
