"""Helpers shared by the learned models (autoencoder, transformer): determinism, the epoch loop
and the train/validation split. What the models read, and the listening objective, live in
models/content_inputs.py.

Determinism: every fit runs under ``deterministic_torch(seed)``, which seeds torch, switches on
``torch.use_deterministic_algorithms`` and pins the thread count (a fixed count keeps
floating-point reduction order fixed). One thread: these networks are small, and on a busy
2-core machine two intra-op threads made a training step about 20x SLOWER than one (measured
while other jobs ran: 100 steps of a 60-256-32 MLP took 1.0 s on 1 thread, 12-22 s on 2).
Every random draw inside training (shuffles, genre and artist dropout, masks) comes from an
explicit ``torch.Generator`` seeded from the model's seed, so the same data and seed give
bit-identical weights and embeddings.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

log = logging.getLogger("spotrec.models.training")

TORCH_THREADS = 1


@contextlib.contextmanager
def deterministic_torch(seed: int, threads: int = TORCH_THREADS) -> Iterator[None]:
    """Seeded, deterministic, fixed-thread torch for the duration of a fit or embed call."""
    previous_threads = torch.get_num_threads()
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(previous_threads)
        torch.use_deterministic_algorithms(previous_deterministic)


def train_validation_split(
    n: int, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): a fixed random split, validation at least 1 row when n>=2."""
    if n < 2:
        raise ValueError(f"need at least 2 tracks to train, got {n}")
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, round(validation_fraction * n)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


@dataclass
class EpochLoopSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 1e-4
    patience: int | None = None  # stop after this many epochs without validation improvement
    # None: every training row each epoch; n: a fresh seeded random n of them each epoch, so an
    # epoch costs the same however many rows there are (learned.py says when it is used).
    rows_per_epoch: int | None = None
    progress: bool = True
    description: str = "train"


@dataclass
class TrainingHistory:
    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0  # 1-based epoch whose weights were kept
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "train_loss": [round(v, 6) for v in self.train_loss],
            "validation_loss": [round(v, 6) for v in self.validation_loss],
            "best_epoch": self.best_epoch,
            "final_train_loss": round(self.train_loss[self.best_epoch - 1], 6),
            "final_validation_loss": round(self.validation_loss[self.best_epoch - 1], 6),
            "training_seconds": round(self.seconds, 2),
        }


# loss_fn(network, batch row indices, generator, training) -> scalar loss tensor
LossFn = Callable[[torch.nn.Module, torch.Tensor, torch.Generator, bool], torch.Tensor]


def run_epochs(
    network: torch.nn.Module,
    loss_fn: LossFn,
    train_rows: np.ndarray,
    validation_rows: np.ndarray,
    settings: EpochLoopSettings,
    seed: int,
) -> TrainingHistory:
    """AdamW with a cosine learning-rate decay; keeps the weights of the best validation epoch.

    The validation loss is computed with its own generator re-seeded every epoch, so random
    input corruption (genre dropout, masks) is the same each time and epochs compare fairly.
    """
    if settings.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {settings.epochs}")
    if settings.rows_per_epoch is not None and settings.rows_per_epoch < 1:
        raise ValueError(f"rows_per_epoch must be >= 1, got {settings.rows_per_epoch}")
    rows_per_epoch = min(len(train_rows), settings.rows_per_epoch or len(train_rows))
    optimiser = torch.optim.AdamW(
        network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    batches_per_epoch = math.ceil(rows_per_epoch / settings.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=settings.learning_rate,
        total_steps=settings.epochs * batches_per_epoch,
        pct_start=0.1,
    )
    shuffle_generator = torch.Generator().manual_seed(seed)
    corruption_generator = torch.Generator().manual_seed(seed + 1)
    train_tensor = torch.as_tensor(train_rows, dtype=torch.long)
    validation_tensor = torch.as_tensor(validation_rows, dtype=torch.long)
    history = TrainingHistory()
    best_loss, best_state = math.inf, None
    started = time.perf_counter()
    for epoch in range(1, settings.epochs + 1):
        network.train()
        order = train_tensor[torch.randperm(len(train_tensor), generator=shuffle_generator)]
        order = order[:rows_per_epoch]  # all of them (in a new order) unless capped
        batches = order.split(settings.batch_size)
        total, count = 0.0, 0
        bar = tqdm(
            batches,
            desc=f"{settings.description} epoch {epoch}/{settings.epochs}",
            # None: a bar on a terminal only; CI logs get the per-epoch loss lines instead.
            disable=None if settings.progress else True,
            leave=False,
            unit="batch",
        )
        for batch in bar:
            loss = loss_fn(network, batch, corruption_generator, True)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
            bar.set_postfix(loss=f"{total / count:.4f}")
        history.train_loss.append(total / count)
        history.validation_loss.append(
            evaluate_loss(network, loss_fn, validation_tensor, settings.batch_size, seed + 2)
        )
        log.info(
            "%s epoch %d/%d: train loss %.5f, validation loss %.5f",
            settings.description,
            epoch,
            settings.epochs,
            history.train_loss[-1],
            history.validation_loss[-1],
        )
        if history.validation_loss[-1] < best_loss:
            best_loss, history.best_epoch = history.validation_loss[-1], epoch
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        elif settings.patience is not None and epoch - history.best_epoch >= settings.patience:
            log.info("%s: early stop after epoch %d", settings.description, epoch)
            break
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    history.seconds = time.perf_counter() - started
    return history


@torch.no_grad()
def evaluate_loss(
    network: torch.nn.Module,
    loss_fn: LossFn,
    rows: torch.Tensor,
    batch_size: int,
    seed: int,
) -> float:
    """Mean loss over ``rows`` in eval mode, with a fixed corruption seed."""
    network.eval()
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    for batch in rows.split(batch_size):
        total += float(loss_fn(network, batch, generator, False)) * len(batch)
    return total / max(1, len(rows))
