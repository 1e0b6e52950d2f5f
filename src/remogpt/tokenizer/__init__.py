"""The motion tokenizer: a VQ-VAE that turns motions (features) into tokens and back.

    from remogpt.tokenizer import MotionTokenizer
    tokenizer = MotionTokenizer.from_pretrained("runs/tokenizer")
    tokens = tokenizer.encode([features])          # list[list[int]], T // 4 tokens per motion
    features = tokenizer.decode(tokens)            # list[np.ndarray] (4 * len(tokens), 263)

Training: remogpt.tokenizer.train.train_tokenizer (imports Lightning); metrics: remogpt.tokenizer.metrics.
"""

from .model import MODEL_PRESETS, MotionTokenizer, TokenizerConfig

__all__ = ["MODEL_PRESETS", "MotionTokenizer", "TokenizerConfig"]
