"""GPU readiness without a GPU: no tensor is put on a fixed device in the package, and training batches are pinned
for a GPU and use the configured worker processes."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import remogpt

SOURCE = Path(remogpt.__file__).parent
FIXED_DEVICE = re.compile(r"""\.cuda\(|device\s*=\s*["'](cuda|cpu)[:"']|\.to\(\s*["'](cuda|cpu)""")
# where a fixed device is the point: choosing one, loading weights to the CPU first, exporting CPU copies
ALLOWED = {"training.py", "pretrained.py"}


def test_no_tensor_is_created_on_a_fixed_device():
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            signature = line.lstrip().startswith("def ")  # a default a caller overrides is no fixed device
            if FIXED_DEVICE.search(line) and not signature and path.name not in ALLOWED and "map_location" not in line:
                found.append(f"{path.relative_to(SOURCE)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_training_batches_are_pinned_for_a_gpu_and_use_the_configured_workers(monkeypatch):
    import torch

    from remogpt.training import loader_options

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert loader_options(SimpleNamespace(accelerator="auto", num_workers=4)) == {
        "num_workers": 4, "persistent_workers": True, "pin_memory": True,
    }  # fmt: skip
    assert loader_options(SimpleNamespace(accelerator="cpu", num_workers=0))["pin_memory"] is False
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert loader_options(SimpleNamespace(accelerator="auto", num_workers=0)) == {
        "num_workers": 0, "persistent_workers": False, "pin_memory": False,
    }  # fmt: skip
