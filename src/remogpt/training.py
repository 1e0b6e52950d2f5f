"""Run directories and the Lightning Trainer shared by every training stage.

A run directory holds everything needed to understand and continue a run:

    out_dir/
      config.json             the resolved training config (written by `write_run_config`)
      metrics.jsonl           one JSON object per logged step ({"step": ..., "train/loss": ...})
      checkpoints/last.ckpt   Lightning checkpoint for resuming (model, optimiser, loops); never used for inference
      model/                  the inference model (`save_pretrained`); from_pretrained(out_dir) finds it there

Usage in a stage:

    seed_everything(config.seed)
    write_run_config(out_dir, config)
    trainer = make_trainer(out_dir, max_steps=config.max_steps, val_every_n_steps=config.val_every)
    fit(trainer, module, train_loader, val_loader, out_dir)   # resumes from checkpoints/last.ckpt when present
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import UserInputError


def pick_device(name: str = "auto") -> str:
    """"auto" -> "cuda" when a GPU is visible, else "cpu"; any other name is passed through (torch checks it)."""
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
from .pretrained import config_to_dict, read_json, write_config

RUN_CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.jsonl"
HARDWARE_LOG_NAME = "hardware.jsonl"  # one line per start of a run: where and in what precision it trained
CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"


def seed_everything(seed: int) -> int:
    """Seed python, numpy and torch (and dataloader workers) the Lightning way."""
    import lightning

    return lightning.seed_everything(seed, workers=True, verbose=False)


class StepBatches:
    """The batches of training step after step, as a function of (seed, step) only, so a run resumed from a
    checkpoint at step s goes on with exactly the batches an uninterrupted run would have seen.

    `epoch_batches(epoch)` lists an epoch's batches (its own shuffle, seeded by the epoch); step s takes batch
    s mod B of epoch s // B (B batches an epoch). Items are yielded as (index, epoch), so a dataset's per-epoch
    draws (crops, captions, tasks) follow the step too. Iteration starts at `start` and never ends: training stops
    at max_steps (Lightning sees one endless epoch; validation runs every N steps)."""

    def __init__(self, epoch_batches, batches_per_epoch: int, start: int = 0):
        self.epoch_batches, self.per_epoch, self.start = epoch_batches, max(1, batches_per_epoch), start

    def __iter__(self):
        rank, world = process_rank()
        # Under DDP each process takes its own batch of the step, and an epoch holds a whole number of steps (up to
        # world - 1 batches dropped; fewer batches than processes repeat), so every step's batches come from one epoch: W processes x batch B then see,
        # step by step, what one process with batch W x B sees (with fixed-size batches in permutation order).
        per_epoch = max(world, self.per_epoch - self.per_epoch % world)
        step, epoch, batches = self.start, None, None
        while True:
            number = step * world + rank
            if number // per_epoch != epoch:
                epoch = number // per_epoch
                batches = self.epoch_batches(epoch)
            yield [(index, epoch) for index in batches[number % per_epoch % len(batches)]]
            step += 1


def process_rank() -> tuple[int, int]:
    """(rank, world size) of this training process: (0, 1) without a process group. Our step-based batch samplers
    shard by it themselves, so the Trainer injects no DistributedSampler (make_trainer: use_distributed_sampler=False)."""
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True in the process that writes files: the only one, or rank 0 of a multi-process run. Read from the launch
    environment (RANK, LOCAL_RANK, SLURM_PROCID: Lightning's rank_zero_only), so it holds before any process group
    exists (a launcher such as torchrun starts every rank at once)."""
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0


def on_main_process(write: Callable[[], Any]) -> None:
    """`write()` in the main process only; under a process group every process then waits until it is done, so no
    rank reads a file another is still writing and no file is written twice at once."""
    import torch

    if is_main_process():
        write()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


def agreed(question: Callable[[], Any]) -> Any:
    """The main process's answer to `question()`, the same in every process (broadcast under a process group): a
    step that some ranks would skip and others run (a file another rank has just written) would leave the others
    waiting at a barrier forever."""
    import torch

    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return question()
    answer = [question() if is_main_process() else None]
    torch.distributed.broadcast_object_list(answer, src=0)
    return answer[0]


def _rank_agreement_class():
    import lightning
    import torch

    class RankAgreement(lightning.Callback):
        """DDP's contract, checked when training ends under several processes: every rank holds the same
        parameters. Each rank's digest (sum and absolute sum of every parameter tensor, float64) is gathered; the
        largest difference from rank 0 is logged (`distributed/parameter_spread`) and a disagreement stops the run
        (a module not wrapped by DDP, a rank-dependent update) instead of exporting one rank's weights silently."""

        def on_train_end(self, trainer, module) -> None:
            if trainer.world_size < 2:
                return
            tensors = [p.detach().double() for p in module.parameters()]
            digest = torch.stack([t.sum() for t in tensors] + [t.abs().sum() for t in tensors])
            gathered = trainer.strategy.all_gather(digest)
            spread = float((gathered - gathered[0]).abs().max())
            scale = float(gathered[0].abs().max()) or 1.0
            if trainer.logger is not None:
                trainer.logger.log_metrics(
                    {"distributed/world_size": trainer.world_size, "distributed/parameter_spread": spread}, step=trainer.global_step
                )
            if spread > 1e-9 * scale:
                raise RuntimeError(f"the {trainer.world_size} training processes ended with different parameters (spread {spread:.3g}).")

    return RankAgreement


def shuffled_batches(size: int, batch_size: int, seed: int, *, drop_last: bool = True):
    """epoch -> that epoch's batches of a seeded permutation of range(size) (for StepBatches)."""
    import numpy as np

    count = size // batch_size if drop_last else -(-size // batch_size)

    def epoch_batches(epoch: int) -> list[list[int]]:
        order = np.random.default_rng((seed, epoch)).permutation(size).tolist()
        return [order[i * batch_size : (i + 1) * batch_size] for i in range(count)]

    return epoch_batches, count


def resume_step(out_dir: str | os.PathLike) -> int:
    """The step a run in `out_dir` goes on from: its last checkpoint's, or 0."""
    checkpoint = last_checkpoint(out_dir)
    return checkpoint_step(checkpoint) if checkpoint is not None else 0


def seed_step(seed: int, step: int) -> None:
    """Seed torch for one training step (dropout, corruption, codebook resets): a function of (seed, step), so a
    resumed run draws what an uninterrupted one would."""
    import torch

    torch.manual_seed(seed * 1_000_003 + step)


def last_checkpoint(out_dir: str | os.PathLike) -> Path | None:
    path = Path(out_dir) / CHECKPOINT_DIR / LAST_CHECKPOINT
    return path if path.is_file() else None


# Where a stage trains, in Lightning's names; every stage's config has these fields (and `precision`, `seed`). They
# may change when a run resumes: the same run can go on on other hardware.
HARDWARE_FIELDS = ("accelerator", "devices", "num_nodes")


def hardware(config) -> dict:
    """make_trainer's keyword arguments for where a stage's config says to train."""
    return {name: getattr(config, name) for name in (*HARDWARE_FIELDS, "precision")}


# A precision of our own beside Lightning's: bf16 autocast where the hardware has bf16 arithmetic, fp32 elsewhere.
# Autocast on a CPU without it (e.g. AVX2-only) emulates bf16 and trains several times slower than fp32
# (bench/results/lm_train_throughput.md), so presets ask for this instead of "bf16-mixed".
AUTO_PRECISION = "auto"
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def trains_on_gpu(accelerator: str = "auto") -> bool:
    """Whether Lightning's `accelerator` name means a CUDA GPU here ("auto": when one is visible)."""
    import torch

    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


@functools.lru_cache(maxsize=1)
def cpu_info() -> str:
    """/proc/cpuinfo, read once per process ("" where there is none or it cannot be read)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def has_native_bf16(accelerator: str = "auto", cpu_flags: str | None = None) -> bool:
    """Whether training on `accelerator` (Lightning's name) computes in bf16 natively: a CUDA GPU that supports it,
    or a CPU with AVX512-BF16 or AMX (read from /proc/cpuinfo; elsewhere, or unreadable: no)."""
    import torch

    if trains_on_gpu(accelerator):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    words = set((cpu_info() if cpu_flags is None else cpu_flags).split())
    return any(flag in words for flag in CPU_BF16_FLAGS)


def resolved_precision(precision: str | None, accelerator: str = "auto") -> str | None:
    """Lightning's precision for a config's value: "auto" becomes "bf16-mixed" or "32-true" (has_native_bf16)."""
    if precision != AUTO_PRECISION:
        return precision
    return "bf16-mixed" if has_native_bf16(accelerator) else "32-true"


def device_name(accelerator: str = "auto") -> str:
    """What a stage trains on, in words: the CUDA device's name, else the CPU's model name and core count."""
    import platform

    import torch

    if trains_on_gpu(accelerator):
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    names = [line.split(":", 1)[1].strip() for line in cpu_info().splitlines() if line.startswith("model name")]
    model = names[0] if names else platform.processor() or "unknown CPU"
    return f"{model} ({os.cpu_count()} cores)"


def record_hardware(out_dir: str | os.PathLike, **fields: Any) -> None:
    """Append one line to the run's hardware log: time, device, torch version, threads and `fields`."""
    import torch

    row = {"time": round(time.time(), 3), "device": device_name(fields.get("accelerator", "auto")),
           "torch": torch.__version__, "threads": torch.get_num_threads(), **fields}  # fmt: skip
    path = Path(out_dir) / HARDWARE_LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def loader_options(config) -> dict:
    """DataLoader keyword arguments for a stage's training batches: its worker processes (kept alive between
    epochs), and pinned memory when it trains on a GPU (host-to-device copies then run asynchronously)."""
    on_gpu = trains_on_gpu(getattr(config, "accelerator", "auto"))
    workers = getattr(config, "num_workers", 0)
    return {"num_workers": workers, "persistent_workers": workers > 0, "pin_memory": on_gpu}


def write_run_config(out_dir: str | os.PathLike, config: Any, *, may_change: Iterable[str] = ("max_steps",)) -> Path:
    """Write the resolved config of a run; resuming with a different config (beyond `may_change`) is an error."""
    path = Path(out_dir) / RUN_CONFIG_NAME
    if path.is_file() and last_checkpoint(out_dir) is not None:
        before = read_json(path, name="run config")
        after = config_to_dict(config)
        # a setting added to the code after the run started is no change while it keeps its default
        defaults = {f.name: f.default for f in dataclasses.fields(config)} if dataclasses.is_dataclass(config) else {}
        changed = sorted(
            k for k in set(before) | set(after)
            if before.get(k, defaults.get(k)) != after.get(k) and k not in may_change
        )  # fmt: skip
        if changed:
            raise UserInputError(
                f"run directory '{out_dir}' already holds a run with different settings ({', '.join(changed)}); "
                "use a new --out directory or the same settings to resume."
            )
    if is_main_process():  # every rank resolves the same config; one writes it
        write_config(path, config)
    return path


def read_metrics(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """All rows of a run's metrics.jsonl (empty when nothing was logged yet)."""
    path = Path(out_dir) / METRICS_NAME
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _json_logger_class():
    """Built lazily so importing remogpt.training does not import Lightning."""
    from lightning.pytorch.loggers.logger import Logger
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    class JsonLinesLogger(Logger):
        """Appends each logged step as one JSON line (rank zero only); survives resumes by appending."""

        def __init__(self, path: Path):
            super().__init__()
            self.path = Path(path)

        @property
        def name(self) -> str:
            return "jsonl"

        @property
        def version(self) -> str:
            return "0"

        @property
        def save_dir(self) -> str:
            return str(self.path.parent)

        @rank_zero_only
        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass  # the resolved config is written to config.json by write_run_config

        @rank_zero_only
        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            row = {"step": step, "time": round(time.time(), 3)}
            row.update({k: _plain(v) for k, v in metrics.items()})
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as handle:
                handle.write(json.dumps(row) + "\n")

    return JsonLinesLogger


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def make_trainer(
    out_dir: str | os.PathLike,
    max_steps: int,
    val_every_n_steps: int,
    *,
    accelerator: str = "auto",
    devices: int | str = "auto",
    num_nodes: int = 1,
    strategy: str | None = None,
    precision: str | None = None,
    gradient_clip_val: float | None = None,
    log_every_n_steps: int = 10,
    progress_bar: bool = True,
    callbacks: Iterable[Any] = (),
):
    """A Lightning Trainer that counts in steps, validates every `val_every_n_steps` and keeps checkpoints/last.ckpt.

    CPU, one GPU or several GPUs without code changes: with more than one device the strategy is DDP (Lightning's
    "auto" also picks DDP on several GPUs); pass `strategy` to override.
    """
    import lightning
    from lightning.pytorch.callbacks import ModelCheckpoint

    if max_steps < 1 or val_every_n_steps < 1:
        raise UserInputError(f"max_steps and val_every_n_steps must be >= 1 (got {max_steps}, {val_every_n_steps}).")
    out_dir = Path(out_dir)
    checkpoint = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        save_last=True,
        save_top_k=0,
        every_n_train_steps=val_every_n_steps,
        save_on_train_epoch_end=False,
        enable_version_counter=False,
    )
    if strategy is None:
        strategy = "ddp" if (isinstance(devices, int) and devices > 1) or num_nodes > 1 else "auto"
    requested, precision = precision, resolved_precision(precision, accelerator)
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        trainer = lightning.Trainer(
            default_root_dir=out_dir,
            max_steps=max_steps,
            max_epochs=-1,
            val_check_interval=val_every_n_steps,
            check_val_every_n_epoch=None,  # validate every N steps across epoch boundaries
            num_sanity_val_steps=0,
            accelerator=accelerator,
            devices=devices,
            num_nodes=num_nodes,
            strategy=strategy,
            precision=precision,
            gradient_clip_val=gradient_clip_val,
            logger=_json_logger_class()(out_dir / METRICS_NAME),
            log_every_n_steps=log_every_n_steps,
            callbacks=[checkpoint, _rank_agreement_class()(), *callbacks],
            use_distributed_sampler=False,  # the step-based training batches shard by rank themselves (StepBatches)
            enable_progress_bar=progress_bar,
            enable_model_summary=False,
        )
    except (MisconfigurationException, RuntimeError, ValueError) as error:  # e.g. --accelerator gpu without a GPU
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserInputError(
            f"the trainer cannot run with accelerator={accelerator!r}, devices={devices!r}, precision={precision!r} ({first})."
        ) from None
    if is_main_process():  # the config keeps "auto" (a resumed run may move); this says what it resolved to here
        record_hardware(out_dir, requested=requested, precision=precision, accelerator=accelerator, devices=devices, num_nodes=num_nodes)
    return trainer


def checkpoint_step(path: str | os.PathLike) -> int:
    """The global step stored in a Lightning checkpoint (loaded without unpickling arbitrary objects)."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable checkpoint is the user's file problem
        raise UserInputError(f"checkpoint '{path}' cannot be read ({type(error).__name__}: {error}).") from None
    return int(state.get("global_step", 0))


def fit(trainer, module, train_loader, val_loader, out_dir: str | os.PathLike) -> bool:
    """Train, resuming from out_dir/checkpoints/last.ckpt when it exists; returns False if there was nothing to do.
    Either way `module` ends with the run's trained weights: a finished run loads its last checkpoint, so a caller
    that failed after training (before writing its model) writes the trained model on a rerun, not the initial one."""
    resume = last_checkpoint(out_dir)
    if resume is not None and checkpoint_step(resume) >= trainer.max_steps:
        import torch

        module.load_state_dict(torch.load(resume, map_location="cpu", weights_only=False)["state_dict"])
        return False
    with warnings.catch_warnings():
        # we count steps, not epochs: resuming mid-epoch with a freshly shuffled loader is intended
        warnings.filterwarnings("ignore", message=".*resuming from a checkpoint that ended before the epoch ended.*")
        # small datasets have short epochs; we log by global step, so this hint does not apply
        warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
        trainer.fit(module, train_loader, val_loader, ckpt_path=resume, weights_only=True)
    # the checkpoint callback saves every N steps; also keep the final step so a rerun knows it is done
    trainer.save_checkpoint(Path(out_dir) / CHECKPOINT_DIR / LAST_CHECKPOINT, weights_only=False)
    return True
