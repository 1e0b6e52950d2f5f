"""One call per protocol for the CLI: load the evaluator and data, run the model, attach provenance, render tables.

The model comes loaded (`remogpt.pipeline.load_evaluable` for `--model DIR`); `model_dir` names it in the result.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import UserInputError
from ..io import portable
from ..pretrained import CONFIG_NAME, read_json
from .guo import load_evaluator
from .protocol import RARE_COMPOSITIONS_SPLIT, EvalSplit, caption_rarity, split_captions
from .report import m2t_markdown, provenance, t2m_markdown


def _model_config(model_dir: str | os.PathLike | None) -> dict | None:
    """The model's own config for the provenance: remogpt.json of a ReMoGPT directory, else config.json."""
    if model_dir is None:
        return None
    from ..config import MODEL_CONFIG_NAME

    for name in (MODEL_CONFIG_NAME, CONFIG_NAME):
        if (Path(model_dir) / name).is_file():
            return read_json(Path(model_dir) / name)
    return None


def _decoding(model: Any) -> dict:
    """The decoding settings the model ran with (read back from it) and the database its prompts came from (None:
    its own), for the result's provenance."""
    from dataclasses import asdict, is_dataclass

    sampling = getattr(model, "sampling", None)
    return {"sampling": asdict(sampling) if is_dataclass(sampling) else None, "database": getattr(model, "database_source", None)}


def _with_provenance(
    result: dict, *, model_dir, name, evaluator, data, split, test, model_config, device, seed, replications, start
) -> dict:
    """Attach the model, provenance and wall time to a protocol result."""
    result["model"] = None if model_dir is None else {"path": portable(str(Path(model_dir).resolve())), "name": name}
    result["provenance"] = provenance(
        evaluator=evaluator, data=data, split=split, fingerprint=test.fingerprint(), model_config=model_config,
        seeds={"protocol": seed, "replications": [[seed, r] for r in range(replications)]}, device=device,
    )  # fmt: skip
    result["timings_s"]["wall"] = round(time.perf_counter() - start, 3)
    return result


def run_t2m(
    *,
    data: str | os.PathLike,
    model: Any,
    model_dir: str | os.PathLike | None,
    evaluator_dir: str | os.PathLike,
    replications: int = 20,
    split: str = "test",
    seed: int = 0,
    mm_generations: int = 30,
    cut_to_length: bool = False,
    rare: bool = True,
    device: str = "cpu",
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
    candidates: int | None = None,
    reference_rows: bool = True,
    context_guidance: float | None = None,
    text_guidance: float | None = None,
) -> tuple[dict, str]:
    from .t2m import T2MEvaluation, T2MSettings

    start = time.perf_counter()
    evaluator = load_evaluator(evaluator_dir, map_location=device)
    test = EvalSplit.from_folder(data, split)
    model_config = _model_config(model_dir)
    if candidates is not None:  # a decoding choice of the generator, so it is recorded with the result
        if not hasattr(model, "sampling"):
            raise UserInputError(f"--candidates {candidates} needs a model that samples its motions.")
        model.sampling.candidates = candidates
    if context_guidance is not None:
        if not hasattr(model, "sampling"):
            raise UserInputError(f"--context-guidance {context_guidance} needs a model that samples its motions.")
        model.sampling.context_guidance = context_guidance
    if text_guidance is not None:
        if not hasattr(model, "sampling"):
            raise UserInputError(f"--text-guidance {text_guidance} needs a model that samples its motions.")
        model.sampling.text_guidance = text_guidance
    rarity = caption_rarity(test, [t for t, _ in split_captions(data, "train")], device) if rare else None
    settings = T2MSettings(
        replications=replications, seed=seed, mm_generations=mm_generations, cut_to_reference_length=cut_to_length,
        reference_rows=reference_rows,
    )  # fmt: skip
    evaluation = T2MEvaluation(
        evaluator, test, settings, caption_rarity=rarity,
        sample_subsets={RARE_COMPOSITIONS_SPLIT: test.subset_mask(data, RARE_COMPOSITIONS_SPLIT)}, progress=progress,
    )  # fmt: skip
    result = _with_provenance(
        evaluation.run(model), model_dir=model_dir, name=name, evaluator=evaluator, data=data, split=split, test=test,
        model_config=model_config, device=device, seed=seed, replications=replications, start=start,
    )  # fmt: skip
    result["provenance"].update(_decoding(model))
    return result, t2m_markdown(result, name or (Path(model_dir).name if model_dir else None))


def run_m2t(
    *,
    data: str | os.PathLike,
    model: Any,
    model_dir: str | os.PathLike | None,
    evaluator_dir: str | os.PathLike,
    replications: int = 20,
    split: str = "test",
    seed: int = 0,
    preprocess: str = "ptb",
    references: int = 3,
    bertscore: bool = True,
    device: str = "cpu",
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
    beams: int = 1,
    caption_candidates: int | None = None,
) -> tuple[dict, str]:
    from .captions import default_bertscore_settings, preprocess as check_preprocess
    from .m2t import M2TEvaluation, M2TSettings
    from .tagger import CaptionTagger

    check_preprocess([], preprocess)  # reject an unknown mode before any work
    start = time.perf_counter()
    evaluator = load_evaluator(evaluator_dir, map_location=device)
    test = EvalSplit.from_folder(data, split)
    model_config = _model_config(model_dir)
    if beams != 1:  # a decoding choice of the captioner, so it is recorded with the result
        if not hasattr(model, "sampling"):
            raise UserInputError(f"--beams {beams} needs a model that writes its captions by decoding.")
        model.sampling.caption_beams = beams
    if caption_candidates is not None:
        if not hasattr(model, "sampling"):
            raise UserInputError(f"--caption-candidates {caption_candidates} needs a model that writes its captions by decoding.")
        model.sampling.caption_candidates = caption_candidates
        model.sampling.check()
    tagger = CaptionTagger.learn(split_captions(data, "train"))
    settings = M2TSettings(replications=replications, seed=seed, preprocess=preprocess, references=references)
    evaluation = M2TEvaluation(
        evaluator, test, tagger, settings, bertscore=default_bertscore_settings() if bertscore else None,
        progress=progress, device=device,
    )  # fmt: skip
    result = _with_provenance(
        evaluation.run(model), model_dir=model_dir, name=name, evaluator=evaluator, data=data, split=split, test=test,
        model_config=model_config, device=device, seed=seed, replications=replications, start=start,
    )  # fmt: skip
    # what the captioner decoded with, read back from it rather than echoed from the argument
    result["provenance"]["caption_beams"] = model.sampling.caption_beams if hasattr(model, "sampling") else None
    result["provenance"].update(_decoding(model))
    return result, m2t_markdown(result, name or (Path(model_dir).name if model_dir else None))


def run_motion_task(
    *,
    task: str,
    data: str | os.PathLike,
    model: Any,
    model_dir: str | os.PathLike | None,
    evaluator_dir: str | os.PathLike,
    replications: int = 1,
    split: str = "test",
    seed: int = 0,
    device: str = "cpu",
    name: str | None = None,
) -> tuple[dict, str]:
    """Motion prediction or in-betweening (motion_tasks.py), with its reference rows and provenance."""
    from .motion_tasks import MotionTaskEvaluation, MotionTaskSettings, motion_task_markdown

    start = time.perf_counter()
    evaluator = load_evaluator(evaluator_dir, map_location=device)
    test = EvalSplit.from_folder(data, split)
    unit = model.motion_tokenizer.config.downsample_factor if hasattr(model, "motion_tokenizer") else 4
    settings = MotionTaskSettings(task=task, replications=replications, seed=seed, unit=unit)
    result = _with_provenance(
        MotionTaskEvaluation(evaluator, test, settings).run(model), model_dir=model_dir, name=name, evaluator=evaluator,
        data=data, split=split, test=test, model_config=_model_config(model_dir), device=device, seed=seed,
        replications=replications, start=start,
    )  # fmt: skip
    result["provenance"].update(_decoding(model))
    return result, motion_task_markdown(result, name or (Path(model_dir).name if model_dir else None))
