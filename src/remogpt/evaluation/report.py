"""Results as JSON with provenance, and as markdown tables laid out like the paper's."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

T2M_COLUMNS = (
    ("r_top1", "R-Top1↑"), ("r_top2", "R-Top2↑"), ("r_top3", "R-Top3↑"), ("fid", "FID↓"),
    ("mm_dist", "MM-Dist↓"), ("diversity", "Diversity→"), ("multimodality", "MModality↑"),
)  # fmt: skip
M2T_MATCH_COLUMNS = (("r_top1", "R-Top1↑"), ("r_top2", "R-Top2↑"), ("r_top3", "R-Top3↑"), ("mm_dist", "MM-Dist↓"))
CAPTION_COLUMNS = (
    ("bleu1", "BLEU@1"), ("bleu4", "BLEU@4"), ("rouge_l", "ROUGE-L"), ("cider", "CIDEr-D"), ("bertscore_f1", "BERTScore"),
)  # fmt: skip
SUBSET_TITLES = {"": "all", "top5": "Top-5% rarest", "balanced": "Balanced", "rare_test": "rare compositions"}


def git_commit() -> dict[str, Any] | None:
    """The commit of the source tree this package runs from, if it is a git checkout."""
    root = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}


def provenance(
    *, evaluator, data: str | os.PathLike, split: str, fingerprint: str, model_config: dict | None, seeds: dict, device: str
) -> dict[str, Any]:
    import numpy
    import torch

    from .. import __version__

    from ..io import portable

    return portable({
        "remogpt_version": __version__,
        "git": git_commit(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {"path": str(Path(data).resolve()), "split": split, "sha256": fingerprint},
        "evaluator": {**evaluator.identity, "config": _config_dict(evaluator.config)},
        "model_config": model_config,
        "seeds": seeds,
        "device": device,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__},
    })  # a record: no folder of the machine that made it (io.portable)


def _config_dict(config) -> dict:
    from ..pretrained import config_to_dict

    return config_to_dict(config)


def _cell(stats: dict[str, dict[str, float]] | None, key: str, show_ci: bool = True) -> str:
    if not stats or key not in stats:
        return "–"
    mean, half = stats[key]["mean"], stats[key]["ci"]
    return f"{mean:.3f}±{half:.3f}" if show_ci else f"{mean:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def row_label(name: str, model_name: str | None) -> str:
    return model_name if name == "model" and model_name else name


def t2m_markdown(result: dict[str, Any], model_name: str | None = None) -> str:
    rows = result["rows"]
    main = _table(
        ["method", *[title for _, title in T2M_COLUMNS]],
        [[row_label(name, model_name), *[_cell(stats, key) for key, _ in T2M_COLUMNS]] for name, stats in rows.items()],
    )
    parts = [main]
    subsets = [s for s in ("top5", "balanced", "rare_test") if any(f"{s}/mm_dist" in r for r in rows.values())]
    if subsets:
        header = ["method"]
        for subset in ["", *subsets]:
            title = SUBSET_TITLES.get(subset, subset)
            header += [f"MM-Dist↓ {title}", f"R-Top1↑ {title}"]
        body = []
        for name, stats in rows.items():
            cells = [row_label(name, model_name)]
            for subset in ["", *subsets]:
                prefix = f"{subset}/" if subset else ""
                cells += [_cell(stats, f"{prefix}mm_dist"), _cell(stats, f"{prefix}r_top1")]
            body.append(cells)
        parts.append(_table(header, body))
    return "\n\n".join(parts)


def m2t_markdown(result: dict[str, Any], model_name: str | None = None) -> str:
    rows = result["rows"]
    parts = [
        _table(
            ["captions", *[title for _, title in M2T_MATCH_COLUMNS]],
            [[row_label(n, model_name), *[_cell(s, k) for k, _ in M2T_MATCH_COLUMNS]] for n, s in rows.items()],
        )
    ]
    if "captions" in result:
        systems = {**result.get("reference_captions", {}), model_name or "model": result["captions"]}
        body = []
        for system, variants in systems.items():
            for variant, scores in variants.items():
                cells = [f"{system} (references: {variant})"]
                for key, _ in CAPTION_COLUMNS:
                    value = scores.get(key)
                    cells.append("–" if value is None else f"{100 * value:.1f}")
                body.append(cells)
        settings = next(iter(result["captions"].values()))["settings"]
        note = f"Caption metrics ×100; preprocessing `{settings['preprocess']}`, {settings['references']} references"
        if settings.get("bertscore"):
            bert = settings["bertscore"]
            note += f", BERTScore model `{bert.get('name') or Path(bert['model']).name}` ({bert['num_layers']} layers, no rescaling)"
        parts.append(_table(["method", *[t for _, t in CAPTION_COLUMNS]], body) + "\n\n" + note + ".")
    return "\n\n".join(parts)


def captions_markdown(result: dict[str, Any]) -> str:
    """One row: BLEU@1-4, ROUGE-L, CIDEr-D, BERTScore (x100)."""
    columns = [(f"bleu{n}", f"BLEU@{n}") for n in range(1, 5)] + list(CAPTION_COLUMNS[2:])
    cells = ["–" if result.get(k) is None else f"{100 * result[k]:.1f}" for k, _ in columns]
    return _table([title for _, title in columns], [cells])
