"""CPU cost of one transformer training step (listening mode) by attention kernel.

    python benchmarks/bench_transformer_step.py [--steps 20] [--repeats 4]

The real network (models/transformer.py) at the real catalogue's sizes (16 audio columns,
114 genres, 29,811 artists), batch 512, one torch thread, deterministic algorithms on: forward,
cosine listening loss, backward and the AdamW step on random inputs. The two kernels alternate
``--repeats`` times so a load change on a shared machine hits both; prints CPU ms per step
(process time, so other jobs' load matters less than for wall time) and the median ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn.attention import SDPBackend

from spotrec.models.content_inputs import ContentInputs, listening_loss
from spotrec.models.features import AUDIO_PROFILE_COLUMNS
from spotrec.models.transformer import FeatureTokenizerTransformer, TransformerConfig

GENRES, ARTISTS, BATCH = 114, 29_811, 512
KERNELS = {"flash (torch default on CPU)": SDPBackend.FLASH_ATTENTION, "math": SDPBackend.MATH}


def step_cost(backend: SDPBackend, steps: int) -> float:
    """CPU milliseconds per training step with ``backend`` (after 2 warm-up steps)."""
    torch.manual_seed(0)
    audio = len(AUDIO_PROFILE_COLUMNS)
    network = FeatureTokenizerTransformer(audio, GENRES, ARTISTS, TransformerConfig())
    network.attention_backend = backend
    network.listening_head = torch.nn.Linear(network.style_dim, 32)
    optimiser = torch.optim.AdamW(network.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    inputs = ContentInputs(
        torch.randn(BATCH, audio),
        (torch.rand(BATCH, GENRES) < 0.02).float(),
        torch.randint(0, ARTISTS + 1, (BATCH, 4)),
    )
    target = torch.nn.functional.normalize(torch.randn(BATCH, 32), dim=1)

    def step() -> None:
        corrupted = inputs.corrupted(0.5, 0.25, generator)
        predicted = network.listening_head(network.style(corrupted))
        loss = listening_loss(predicted, target, "cosine", 0.1)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    for _ in range(2):
        step()
    begin = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - begin) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    costs: dict[str, list[float]] = {name: [] for name in KERNELS}
    for _ in range(args.repeats):
        for name, backend in KERNELS.items():
            costs[name].append(step_cost(backend, args.steps))
    for name, values in costs.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:<30} CPU ms/step: {shown}  (median {statistics.median(values):.1f})")
    flash, math_ = (statistics.median(v) for v in costs.values())
    print(f"math / flash: {math_ / flash:.3f}")


if __name__ == "__main__":
    main()
