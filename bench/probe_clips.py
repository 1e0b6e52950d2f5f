"""What the probes share: the first training clips of a dataset with their motion codes and the references
retrieval gives their first caption in training (the clip itself excluded)."""

from __future__ import annotations


def training_clips_with_references(model_dir: str, data: str, clips: int):
    """(model, samples, codes, queries, references) for the first `clips` training clips."""
    from remogpt.data.folder import HumanML3DFolder
    from remogpt.pipeline import ReMoGPT
    from remogpt.retrieval.database import Exclude

    model = ReMoGPT.from_pretrained(model_dir)
    samples = HumanML3DFolder(data).samples("train")[:clips]
    codes = [list(map(int, c)) for c in model.motion_tokenizer.encode([s.features for s in samples])]
    queries = [s.captions[0].text for s in samples]
    retrieved = model.context.for_texts(queries, exclude=[Exclude(s.motion_id, q) for s, q in zip(samples, queries)])
    return model, samples, codes, queries, retrieved
