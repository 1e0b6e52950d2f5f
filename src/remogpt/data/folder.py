"""Read and write HumanML3D-layout folders (HumanML3D, KIT-ML, Motion-X in HumanML3D format, the built-in dataset).

Layout (see docs/humanml3d.md §1)::

    ROOT/new_joint_vecs/<id>.npy   (T, 263) float32 features (KIT (T, 251))
    ROOT/new_joints/<id>.npy       (T, 22, 3) joint positions (KIT (T, 21, 3))
    ROOT/texts/<id>.txt            caption#word/POS word/POS ...#start#end, one per line
    ROOT/Mean.npy, ROOT/Std.npy    (D,) feature statistics
    ROOT/{train,val,test,all,train_val}.txt   one id per line

Motion-X's HumanML3D-format release is read as published (`Layout`, `detect_layout`): features in
motion_data/vector_263/ (or vector_263/), captions in texts/semantic_labels/ as plain sentences without the
word/POS field (tagged here by the rule tagger, data/synth/tagger.py, where the evaluator needs tokens), ids with
sub-folders ("humanml/000001", "fitness/subset_0032/Plank_clip_18"), its own Mean.npy/Std.npy at the root.

Samples follow the reference loader of Guo et al. (Text2MotionDatasetV2): a clip is kept only when
min_frames <= T < max_frames; its whole-clip captions (span 0#0) form one sample named by the id; each timed caption
becomes its own sample holding the slice motion[int(start*fps):int(end*fps)], kept only when the slice passes the
same length filter.
"""

from __future__ import annotations

import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import UserInputError
from ..io import atomic_path, check_finite, load_npy, save_npy

FEATURES_DIR = "new_joint_vecs"
JOINTS_DIR = "new_joints"
TEXTS_DIR = "texts"
MEAN_FILE = "Mean.npy"
STD_FILE = "Std.npy"
STANDARD_SPLITS = ("train", "val", "test", "all", "train_val")
MOTIONX_FEATURE_DIRS = ("motion_data/vector_263", "vector_263")  # where Motion-X's body-only 263-d features live
MOTIONX_TEXTS_DIR = "texts/semantic_labels"
TOMATO_WIDTH = 623  # Motion-X's whole-body features (52 joints); the body-only 263 are a slice of them


@dataclass(frozen=True)
class Layout:
    """Where a folder keeps its files. HumanML3D, KIT-ML and the built-in dataset share one layout; Motion-X's
    HumanML3D-format release differs in the folder names, plain captions and ids with sub-folders."""

    name: str
    features_dir: str
    joints_dir: str | None  # None: no joint positions of the 22/21-joint skeleton in the folder
    texts_dir: str
    plain_captions: bool = False  # caption lines may be plain sentences (no word/POS, no span)
    nested_ids: bool = False  # ids may name sub-folders ('humanml/000001')
    differences: tuple[str, ...] = ()  # what `data check` says differs from HumanML3D's layout


HUMANML3D_LAYOUT = Layout("HumanML3D", FEATURES_DIR, JOINTS_DIR, TEXTS_DIR)


def detect_layout(root: str | os.PathLike) -> Layout:
    """Motion-X's layout when its body-only features folder is there, HumanML3D's otherwise."""
    root = Path(root)
    features_dir = next((d for d in MOTIONX_FEATURE_DIRS if (root / d).is_dir()), None)
    if features_dir is None:
        return HUMANML3D_LAYOUT
    texts_dir = MOTIONX_TEXTS_DIR if (root / MOTIONX_TEXTS_DIR).is_dir() else TEXTS_DIR
    return Layout(
        "Motion-X", features_dir, None, texts_dir, plain_captions=True, nested_ids=True,
        differences=(
            f"features in {features_dir}/ (Motion-X's body-only 263-d vectors), not {FEATURES_DIR}/",
            f"captions in {texts_dir}/; lines without the word/POS field are tagged by remogpt's rule tagger",
            "ids name sub-folders (e.g. humanml/000001); mirrors only where a name starts with M (the humanml subset)",
            f"no {JOINTS_DIR}/ of the 22-joint skeleton: every tool reads the features",
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class DatasetFormat:
    """What the feature width says about a dataset: skeleton size, frame rate and the reference length filter."""

    name: str
    num_joints: int
    feature_dim: int
    fps: float
    min_frames: int


# Feature width 4 + 3(J-1) + 6(J-1) + 3J + 4 identifies the skeleton (docs/humanml3d.md §4).
FORMATS = {
    263: DatasetFormat("HumanML3D", num_joints=22, feature_dim=263, fps=20.0, min_frames=40),
    251: DatasetFormat("KIT-ML", num_joints=21, feature_dim=251, fps=12.5, min_frames=24),
}
FORMATS_BY_JOINTS = {fmt.num_joints: fmt for fmt in FORMATS.values()}

# spaCy's universal POS tags (what HumanML3D's text_process.py writes after each word).
POS_TAGS = frozenset(
    "ADJ ADP ADV AUX CCONJ CONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SPACE SYM VERB X".split()
)
_TOKEN = re.compile(r"^([^\s/]+)/([A-Z]+)$")


# --------------------------------------------------------------------------------------------------- captions
@dataclass
class Caption:
    """One caption line. start/end are seconds; (0, 0) means the caption describes the whole clip."""

    text: str
    tokens: list[str] = field(default_factory=list)  # "word/POS" pairs, as written by HumanML3D's text_process
    start: float = 0.0
    end: float = 0.0

    @property
    def is_whole_clip(self) -> bool:
        return self.start == 0.0 and self.end == 0.0


def _where(source: str | os.PathLike | None, line_number: int | None) -> str:
    if source is None:
        return "caption line"
    if line_number is None:
        return f"caption line in '{source}'"
    return f"line {line_number} of '{source}'"


def _parse_time(value: str, what: str, where: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise UserInputError(f"{where} has {what} time '{value}', expected a number of seconds.") from None
    if math.isnan(seconds):
        return 0.0  # the reference loaders read a NaN span as 0 (HumanML3D's index has empty from/to cells)
    if math.isinf(seconds) or seconds < 0:
        raise UserInputError(f"{where} has {what} time '{value}', expected a non-negative number of seconds.")
    return seconds


def parse_caption_line(
    line: str, *, source: str | os.PathLike | None = None, line_number: int | None = None, plain: bool = False
) -> Caption:
    """Parse `caption#word/POS word/POS ...#start#end`; a malformed line raises UserInputError naming file and line.

    With `plain`, a line without any '#' is a plain sentence describing the whole clip (Motion-X's semantic labels);
    its word/POS tokens come from the rule tagger, since the evaluator's text encoder reads them."""
    where = _where(source, line_number)
    if plain and "#" not in line:
        text = " ".join(line.split())
        if not text:
            raise UserInputError(f"{where} has an empty caption.")
        return Caption(text=text, tokens=rule_tokens(text))
    fields = line.strip().split("#")
    if len(fields) != 4:
        raise UserInputError(
            f"{where} has {len(fields)} '#'-separated fields, expected 4 (caption#word/POS ...#start#end)."
        )
    text, token_field, start_text, end_text = fields
    text = text.strip()
    if not text:
        raise UserInputError(f"{where} has an empty caption.")
    tokens = token_field.split()
    for token in tokens:
        match = _TOKEN.match(token)
        if match is None or match.group(2) not in POS_TAGS:
            raise UserInputError(f"{where} has token '{token}', expected word/POS with a universal POS tag.")
    start = _parse_time(start_text.strip(), "start", where)
    end = _parse_time(end_text.strip(), "end", where)
    if not (start == 0.0 and end == 0.0) and end <= start:
        raise UserInputError(f"{where} has the time span {start}-{end}, expected end > start (or 0#0 for the whole clip).")
    return Caption(text=text, tokens=tokens, start=start, end=end)


def format_caption_line(caption: Caption) -> str:
    """The inverse of parse_caption_line (no trailing newline)."""
    if "#" in caption.text or "\n" in caption.text:
        raise UserInputError(f"caption '{caption.text}' contains '#' or a newline, which the text format cannot hold.")
    return f"{caption.text}#{' '.join(caption.tokens)}#{float(caption.start)!r}#{float(caption.end)!r}"


def parse_caption_file(path: str | os.PathLike, plain: bool = False) -> list[Caption]:
    """Every caption of a texts/<id>.txt file; an empty file or a blank line is an error (`plain`: see parse_caption_line)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserInputError(f"caption file '{path}' is not UTF-8 text.") from None
    if not lines:
        raise UserInputError(f"caption file '{path}' is empty, expected one caption per line.")
    return [parse_caption_line(line, source=path, line_number=number, plain=plain) for number, line in enumerate(lines, 1)]


# --------------------------------------------------------------------------------------------------- samples
@dataclass
class Sample:
    """One text-motion pair group: a whole clip with its whole-clip captions, or a timed slice with its caption."""

    name: str  # unique: the motion id, or "<id>@<start>-<end>" for a timed caption
    motion_id: str
    features: np.ndarray  # (T, D) float32, raw (not normalised)
    captions: list[Caption]

    @property
    def length(self) -> int:
        return int(self.features.shape[0])


def mirror_id(motion_id: str) -> str:
    """HumanML3D names each mirrored clip 'M' + id: '000021' <-> 'M000021' (Motion-X: 'humanml/000021' <->
    'humanml/M000021', the file name only)."""
    folder, slash, name = motion_id.rpartition("/")
    return folder + slash + (name[1:] if name.startswith("M") else "M" + name)


def is_mirror(motion_id: str) -> bool:
    return motion_id.rpartition("/")[2].startswith("M")


def _timed_name(motion_id: str, caption: Caption) -> str:
    return f"{motion_id}@{caption.start!r}-{caption.end!r}"


def rule_tokens(text: str) -> list[str]:
    """HumanML3D-style word/POS tokens of a plain sentence from the rule tagger (spaCy is not installable offline)."""
    from .synth.tagger import token_field

    return token_field(text)


def files_under(directory: Path, suffix: str) -> Iterator[tuple[str, Path]]:
    """(id, path) of every visible file with `suffix` under a folder, sub-folders included (Motion-X's ids such as
    'humanml/000001'), in sorted order; hidden files are temporaries, not ids. A generator: the first comes at once."""
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        prefix = Path(folder).relative_to(directory)
        for name in sorted(files):
            if name.endswith(suffix) and not name.startswith("."):
                yield (prefix / name[: -len(suffix)]).as_posix(), Path(folder) / name


def _io_workers() -> int:
    return min(16, 4 * (os.cpu_count() or 1))


# --------------------------------------------------------------------------------------------------- reader
class HumanML3DFolder:
    """A HumanML3D-layout folder. Loaded arrays and captions are cached on the object."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserInputError(f"dataset folder '{self.root}' does not exist or is not a folder.")
        self.layout = detect_layout(self.root)
        self._format: DatasetFormat | None = None
        self._features: dict[str, np.ndarray] = {}
        self._captions: dict[str, list[Caption]] = {}

    def __repr__(self) -> str:
        return f"HumanML3DFolder('{self.root}')"

    # ---- paths
    def features_path(self, motion_id: str) -> Path:
        return self.root / self.layout.features_dir / f"{motion_id}.npy"

    def joints_path(self, motion_id: str) -> Path:
        if self.layout.joints_dir is None:
            raise UserInputError(f"the {self.layout.name} folder '{self.root}' holds no {self.num_joints}-joint positions; use its features.")
        return self.root / self.layout.joints_dir / f"{motion_id}.npy"

    def captions_path(self, motion_id: str) -> Path:
        return self.root / self.layout.texts_dir / f"{motion_id}.txt"

    # ---- format
    @property
    def format(self) -> DatasetFormat:
        """Inferred from Mean.npy, else the first feature file, else the first joints file (headers only)."""
        if self._format is None:
            self._format = self._infer_format()
        return self._format

    @property
    def feature_dim(self) -> int:
        return self.format.feature_dim

    @property
    def num_joints(self) -> int:
        return self.format.num_joints

    @property
    def fps(self) -> float:
        return self.format.fps

    def _infer_format(self) -> DatasetFormat:
        candidates = [self.root / MEAN_FILE]
        for folder in (self.layout.features_dir, self.layout.joints_dir):
            directory = self.root / folder if folder else None
            if directory is not None and directory.is_dir():
                first = next(files_under(directory, ".npy"), None)
                if first is not None:
                    candidates.append(first[1])
        for path in candidates:
            if not path.is_file():
                continue
            try:
                shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
            except (ValueError, OSError, EOFError):
                continue  # a broken file: let the next candidate decide, `data check` reports it
            joints = self.layout.joints_dir is not None and path.is_relative_to(self.root / self.layout.joints_dir)
            if joints and len(shape) == 3 and shape[1] in FORMATS_BY_JOINTS:
                return FORMATS_BY_JOINTS[shape[1]]
            if not joints and shape and shape[-1] in FORMATS:
                return FORMATS[shape[-1]]
            if shape and shape[-1] == TOMATO_WIDTH:
                raise UserInputError(
                    f"'{path}' holds Motion-X's {TOMATO_WIDTH}-d whole-body features; make the body-only 263-d ones "
                    "with Motion-X's tomato_represenation/motionx2humanml/transfer_to_body_only_humanml.py (it writes vector_263/)."
                )
            raise UserInputError(
                f"'{path}' has shape {shape}, expected features of width 263 (HumanML3D) or 251 (KIT-ML)."
            )
        raise UserInputError(
            f"dataset folder '{self.root}' has no Mean.npy and no .npy files in {FEATURES_DIR}/ or {JOINTS_DIR}/, "
            "so its skeleton cannot be inferred."
        )

    # ---- ids and splits
    def ids(self, split: str | None = "all") -> list[str]:
        """Ids of a split: 'train', 'val', 'test', 'all', 'train_val' (or any ROOT/<split>.txt, or a path to a file).

        Without a split file, 'all' (or None) lists every feature file.
        """
        if split is not None:
            path = Path(split) if split.endswith(".txt") else self.root / f"{split}.txt"
            if path.is_file():
                return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if split != "all":
                available = sorted(p.stem for p in self.root.glob("*.txt"))
                raise UserInputError(
                    f"split '{split}' has no file '{path}' (available splits: {', '.join(available) or 'none'})."
                )
        directory = self.root / self.layout.features_dir
        if not directory.is_dir():
            raise UserInputError(f"dataset folder '{self.root}' has no {self.layout.features_dir}/ folder and no all.txt.")
        if self.layout.nested_ids:
            return sorted(motion_id for motion_id, _ in files_under(directory, ".npy"))
        return sorted(p.stem for p in directory.glob("*.npy"))

    def has_motion(self, motion_id: str) -> bool:
        return motion_id in self._features or self.features_path(motion_id).is_file()

    # ---- loading
    def load_features(self, motion_id: str, cache: bool = True) -> np.ndarray:
        """(T, D) float32 raw features, validated and cached (`cache=False`: read once, kept by nobody, for passes
        over a whole dataset such as its statistics)."""
        cached = self._features.get(motion_id)
        if cached is not None:
            return cached
        path = self.features_path(motion_id)
        array = load_npy(path, name="features")
        if array.ndim != 2 or array.shape[1] != self.feature_dim or array.shape[0] == 0:
            raise UserInputError(f"features file '{path}' has shape {array.shape}, expected (T, {self.feature_dim}).")
        check_finite(array, where=f"features file '{path}'")
        array = np.ascontiguousarray(array, dtype=np.float32)
        array.setflags(write=False)  # shared through the cache: nobody may edit it in place
        if cache:
            self._features[motion_id] = array
        return array

    def load_joints(self, motion_id: str) -> np.ndarray:
        """(T, J, 3) float32 joint positions (not cached: only tools that draw or re-encode need them)."""
        path = self.joints_path(motion_id)
        array = load_npy(path, name="joints")
        if array.ndim != 3 or array.shape[1:] != (self.num_joints, 3) or array.shape[0] == 0:
            raise UserInputError(f"joints file '{path}' has shape {array.shape}, expected (T, {self.num_joints}, 3).")
        check_finite(array, where=f"joints file '{path}'")
        return np.ascontiguousarray(array, dtype=np.float32)

    def load_captions(self, motion_id: str) -> list[Caption]:
        cached = self._captions.get(motion_id)
        if cached is not None:
            return cached
        path = self.captions_path(motion_id)
        if not path.is_file():
            raise UserInputError(f"caption file '{path}' does not exist.")
        captions = parse_caption_file(path, plain=self.layout.plain_captions)
        self._captions[motion_id] = captions
        return captions

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """The dataset's Mean.npy / Std.npy as float32 (D,) arrays."""
        mean = load_npy(self.root / MEAN_FILE, name="Mean")
        std = load_npy(self.root / STD_FILE, name="Std")
        for name, array in (("Mean.npy", mean), ("Std.npy", std)):
            if array.shape != (self.feature_dim,):
                raise UserInputError(f"'{self.root / name}' has shape {array.shape}, expected ({self.feature_dim},).")
            check_finite(array, where=f"'{self.root / name}'")
        if (std <= 0).any():
            raise UserInputError(f"'{self.root / STD_FILE}' has {(std <= 0).sum()} non-positive entries, expected std > 0.")
        return mean.astype(np.float32), std.astype(np.float32)

    def load_many(self, motion_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Features of many ids, read in parallel (file reads release the GIL); ids without a file are left out."""
        present = [i for i in motion_ids if self.has_motion(i)]
        missing = [i for i in present if i not in self._features]
        if missing:
            with ThreadPoolExecutor(max_workers=_io_workers()) as pool:
                list(pool.map(self.load_features, missing))
        return {i: self._features[i] for i in present}

    def samples(
        self, split: str | None = "all", min_frames: int | None = None, max_frames: int | None = 200
    ) -> list[Sample]:
        """Text-motion samples of a split, exactly as Guo et al.'s loader builds them.

        min_frames defaults to the format's (40 HumanML3D, 24 KIT-ML); clips and slices keep min <= T < max.
        Ids without a feature or caption file are skipped, like the reference loader does.
        """
        low = self.format.min_frames if min_frames is None else int(min_frames)
        high = math.inf if max_frames is None else int(max_frames)
        ids = [i for i in dict.fromkeys(self.ids(split)) if self.captions_path(i).is_file()]
        features = self.load_many(ids)
        with ThreadPoolExecutor(max_workers=_io_workers()) as pool:
            list(pool.map(self.load_captions, [i for i in ids if i in features]))

        samples: list[Sample] = []
        for motion_id in ids:
            motion = features.get(motion_id)
            if motion is None or not (low <= len(motion) < high):
                continue
            captions = self.load_captions(motion_id)
            whole = [c for c in captions if c.is_whole_clip]
            if whole:
                samples.append(Sample(motion_id, motion_id, motion, whole))
            used: set[str] = {motion_id}
            for caption in captions:
                if caption.is_whole_clip:
                    continue
                piece = motion[int(caption.start * self.fps) : int(caption.end * self.fps)]
                if not (low <= len(piece) < high):
                    continue
                name = base = _timed_name(motion_id, caption)
                copy = 1
                while name in used:  # two captions on the same span stay separate samples, as in the reference
                    copy += 1
                    name = f"{base}_{copy}"
                used.add(name)
                samples.append(Sample(name, motion_id, piece, [caption]))
        return samples


# --------------------------------------------------------------------------------------------------- writer
def _check_id(motion_id: str) -> None:
    if not motion_id or "/" in motion_id or "\\" in motion_id or motion_id.strip() != motion_id:
        raise UserInputError(f"motion id '{motion_id}' is not a plain file name.")


def write_motion(
    root: str | os.PathLike,
    motion_id: str,
    *,
    features: np.ndarray | None = None,
    joints: np.ndarray | None = None,
    captions: Iterable[Caption] | None = None,
) -> None:
    """Write any of a motion's files (features, joints, captions) atomically, creating the sub-folders."""
    root = Path(root)
    _check_id(motion_id)
    if features is not None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] not in FORMATS or features.shape[0] == 0:
            raise UserInputError(f"features for '{motion_id}' have shape {features.shape}, expected (T, 263) or (T, 251).")
        check_finite(features, where=f"features for '{motion_id}'")
    if joints is not None:
        joints = np.asarray(joints, dtype=np.float32)
        if joints.ndim != 3 or joints.shape[1] not in FORMATS_BY_JOINTS or joints.shape[2] != 3 or not len(joints):
            raise UserInputError(f"joints for '{motion_id}' have shape {joints.shape}, expected (T, 22, 3) or (T, 21, 3).")
        check_finite(joints, where=f"joints for '{motion_id}'")
    if features is not None and joints is not None:
        if len(features) != len(joints) or FORMATS[features.shape[1]].num_joints != joints.shape[1]:
            raise UserInputError(
                f"features {features.shape} and joints {joints.shape} of '{motion_id}' disagree on frames or skeleton."
            )
    lines = None
    if captions is not None:
        lines = [format_caption_line(c) for c in captions]
        if not lines:
            raise UserInputError(f"captions for '{motion_id}' are empty, expected at least one.")

    if features is not None:
        save_npy(root / FEATURES_DIR / f"{motion_id}.npy", features)
    if joints is not None:
        save_npy(root / JOINTS_DIR / f"{motion_id}.npy", joints)
    if lines is not None:
        with atomic_path(root / TEXTS_DIR / f"{motion_id}.txt") as tmp:
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_split(root: str | os.PathLike, name: str, ids: Iterable[str]) -> Path:
    """Write ROOT/<name>.txt, one id per line."""
    ids = list(ids)
    for motion_id in ids:
        _check_id(motion_id)
    path = Path(root) / f"{name}.txt"
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return path


def write_stats(root: str | os.PathLike, mean: np.ndarray, std: np.ndarray) -> None:
    """Write ROOT/Mean.npy and ROOT/Std.npy as float32 (D,)."""
    mean = np.asarray(mean, dtype=np.float32)
    std = np.asarray(std, dtype=np.float32)
    if mean.ndim != 1 or mean.shape != std.shape or mean.shape[0] not in FORMATS:
        raise UserInputError(f"statistics have shapes {mean.shape} and {std.shape}, expected (263,) or (251,) each.")
    check_finite(np.stack([mean, std]), where="dataset statistics")
    if (std <= 0).any():
        raise UserInputError(f"Std has {(std <= 0).sum()} non-positive entries, expected std > 0.")
    save_npy(Path(root) / MEAN_FILE, mean)
    save_npy(Path(root) / STD_FILE, std)
