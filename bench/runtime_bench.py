"""One photo's forward pass of the embedder (EfficientNet-Lite0 at 224 px, one thread) on each runtime, on the same
graph and inputs in one run: frozen TorchScript (what served before), TorchScript in channels-last memory, ONNX
Runtime (what serves now) and OpenVINO (when installed: `pip install openvino`; not a dependency), with each one's
agreement with TorchScript (cosine of the pooled vectors) and the resident memory of a process that loads only it.

Run: .venv/bin/python bench/runtime_bench.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS, WARM = 60, 10

# Each runtime in a process of its own: its time per pass (median ms), its vector on the shared input, and the
# process' peak RSS. {graph} is the exported ONNX file, {inputs} the .npy of model inputs.
_TORCH = """
import torch
from bcd_app.vision import model_export
torch.set_num_threads(1)
network = model_export.network(None)
example = torch.zeros(1, 3, 224, 224)
with torch.no_grad():
    if CHANNELS_LAST:
        network = network.to(memory_format=torch.channels_last)
        example = example.to(memory_format=torch.channels_last)
    frozen = torch.jit.freeze(torch.jit.trace(network, example))
    def run(x):
        tensor = torch.from_numpy(x)
        if CHANNELS_LAST:
            tensor = tensor.to(memory_format=torch.channels_last)
        return frozen(tensor).numpy()
"""
_ONNXRUNTIME = """
import onnxruntime
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = onnxruntime.InferenceSession("{graph}", options, providers=["CPUExecutionProvider"])
def run(x):
    return session.run(None, {{"image": x}})[0]
"""
_OPENVINO = """
import openvino
compiled = openvino.Core().compile_model(
    "{graph}", "CPU", {{"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}}
)
request = compiled.create_infer_request()
def run(x):
    return next(iter(request.infer({{0: x}}).values()))
"""
_MEASURE = """
import time, numpy as np
inputs = np.load("{inputs}")
for x in inputs[:{warm}]:
    run(x[None])
times = []
for i in range({rounds}):
    x = inputs[i % len(inputs)][None]
    started = time.perf_counter()
    run(x)
    times.append((time.perf_counter() - started) * 1000)
vectors = np.stack([run(x[None])[0].mean(axis=(1, 2)) for x in inputs])
np.save("{out}", vectors)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(float(np.median(times)), int(peak) / 1024)
"""

RUNTIMES = (
    ("frozen TorchScript (before)", "CHANNELS_LAST = False\n" + _TORCH),
    ("TorchScript, channels-last", "CHANNELS_LAST = True\n" + _TORCH),
    ("ONNX Runtime (now)", _ONNXRUNTIME),
    ("OpenVINO", _OPENVINO),
)


def main() -> None:
    """Export the graph, run each runtime in its own process, print one table."""
    from bcd_app.vision import model_export
    from tests import photo_data

    folder = Path(tempfile.mkdtemp(prefix="bcd-runtime-"))
    graph, inputs = folder / "model.onnx", folder / "inputs.npy"
    model_export.export(None, graph)
    np.save(inputs, photo_data.model_inputs(sorted(photo_data.real_photos())))
    rows = []
    for label, setup in RUNTIMES:
        out = folder / f"{len(rows)}.npy"
        code = setup.format(graph=graph) + _MEASURE.format(inputs=inputs, warm=WARM, rounds=ROUNDS, out=out)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
            rows.append((label, None, None, reason))
            continue
        ms, peak = (float(v) for v in done.stdout.split()[-2:])
        rows.append((label, ms, peak, np.load(out)))
    reference = rows[0][3]
    unit = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    print(f"one forward pass, 224 px, one thread, median of {ROUNDS} ({len(reference)} real photos)")
    print(f"{'runtime':32s}{'ms':>8s}{'x before':>10s}{'peak RSS MB':>13s}{'max 1 - cosine':>16s}")
    for label, ms, peak, vectors in rows:
        if ms is None:
            print(f"{label:32s}  not measured: {vectors}")
            continue
        cosine = np.sum(unit * vectors / np.linalg.norm(vectors, axis=1, keepdims=True), axis=1)
        print(f"{label:32s}{ms:8.1f}{rows[0][1] / ms:9.2f}x{peak:13.0f}{float(np.max(1 - cosine)):16.1e}")


if __name__ == "__main__":
    main()
