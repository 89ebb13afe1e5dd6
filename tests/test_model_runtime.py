"""The model as served (its graph exported from torch to ONNX, run by ONNX Runtime) gives the vectors and feature
maps torch gives, to 1e-4 cosine on real photos; the serving process never imports torch; a deployer's TorchScript
file is exported and served the same way, under its own version."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bcd_app.vision import model_export
from bcd_app.vision.embeddings import DEFAULT_MODEL_VERSION, Embedder, embedder, normalise
from tests import photo_data

ROOT = Path(__file__).resolve().parents[1]


def _torch_features(network, batch: np.ndarray) -> np.ndarray:
    """The network's feature maps by frozen TorchScript, the runtime the service used before ONNX Runtime."""
    import torch

    with torch.no_grad():
        frozen = torch.jit.freeze(torch.jit.trace(network, torch.zeros(1, *batch.shape[1:])))
        return np.stack([frozen(torch.from_numpy(one[None].copy()))[0].numpy() for one in batch])


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return photo_data.model_inputs(sorted(photo_data.real_photos())[:6])


def test_served_vectors_match_torch_within_1e_4_cosine(batch):
    reference = _torch_features(model_export.network(None), batch)
    served = embedder.embed(batch)
    expected = normalise(reference.mean(axis=(2, 3)))
    cosine = np.sum(served.vectors * expected, axis=1)
    assert np.all(1.0 - cosine < 1e-4), cosine
    # The feature maps the region comparison pools per cell agree too.
    maps = np.sum(served.maps * reference, axis=1) / (
        np.linalg.norm(served.maps, axis=1) * np.linalg.norm(reference, axis=1) + 1e-12
    )
    assert float(np.min(maps)) > 1 - 1e-4
    assert embedder.info().version == DEFAULT_MODEL_VERSION


def test_the_serving_process_loads_the_model_without_torch():
    code = "import sys; from bcd_app.vision.embeddings import embedder; embedder.info(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_torchscript_model_is_exported_once_and_served_under_its_own_version(tmp_path, batch):
    import torch

    path = tmp_path / "deployed.pt"
    with torch.no_grad():
        torch.jit.trace(model_export.network(None), torch.zeros(1, *batch.shape[1:])).save(str(path))
    cache = tmp_path / "cache"
    served = Embedder()
    served.configure(str(path), 1, str(cache))
    info = served.info()
    assert info.name == "deployed" and info.version.startswith("torchscript-") and info.dim == 1280
    graphs = list(cache.glob("*.onnx"))
    assert len(graphs) == 1 and not [p for p in cache.iterdir() if p.is_dir()]
    cosine = np.sum(served.embed(batch[:2]).vectors * embedder.embed(batch[:2]).vectors, axis=1)
    assert np.all(1.0 - cosine < 1e-4)
    # A second process finds the graph and does not export again.
    again = Embedder()
    again.configure(str(path), 1, str(cache))
    assert again.info() == info and list(cache.glob("*.onnx")) == graphs


def test_a_model_that_cannot_be_exported_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a TorchScript archive")
    served = Embedder()
    served.configure(str(broken), 1, str(tmp_path / "cache"))
    with pytest.raises(RuntimeError, match="exporting the embedder to ONNX failed"):
        served.info()
    assert list((tmp_path / "cache").glob("*.onnx")) == []


def test_a_cache_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    served = Embedder()
    served.configure(None, 1, str(blocked / "models"))
    with pytest.raises(RuntimeError, match="set MODEL_CACHE_DIR"):
        served.info()
