"""remogpt.data: HumanML3D-layout folders (folder.py), their checker (check.py) and torch datasets (pairs.py).

pairs.py imports torch, so it is not imported here: `from remogpt.data.pairs import TextMotionDataset`.
"""

from .check import Problem, check_folder
from .folder import (
    Caption,
    HumanML3DFolder,
    Sample,
    format_caption_line,
    is_mirror,
    mirror_id,
    parse_caption_line,
    write_motion,
    write_split,
    write_stats,
)

__all__ = [
    "Caption",
    "HumanML3DFolder",
    "Problem",
    "Sample",
    "check_folder",
    "format_caption_line",
    "is_mirror",
    "mirror_id",
    "parse_caption_line",
    "write_motion",
    "write_split",
    "write_stats",
]
