"""ReMoGPT: part-level retrieval-augmented motion-language models."""

__version__ = "0.1.0"
