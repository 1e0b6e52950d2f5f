"""The contract between training and use: a trained model is a directory `config.json` + `model.safetensors`.

Every remogpt torch model holds one typed config dataclass and mixes in `Pretrained`:

    @dataclass
    class TokenizerConfig:
        width: int = 512

    class MotionTokenizer(Pretrained, nn.Module):
        model_type = "motion-tokenizer"
        config_class = TokenizerConfig

        def __init__(self, config: TokenizerConfig):
            super().__init__()
            self.config = config
            ...

    model.save_pretrained("run/model")
    model = MotionTokenizer.from_pretrained("run/model", map_location="cpu")
    model = MotionTokenizer.from_pretrained("run")   # a run directory works too: its model/ is used

`config.json` holds the dataclass fields plus `model_type` and the remogpt version that wrote it. Weights are
safetensors (never pickle), written atomically, and loaded strictly: a missing or unexpected tensor is an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .errors import UserInputError
from .io import atomic_path, save_json

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MODEL_SUBDIR = "model"  # where a training run directory keeps its inference model (see remogpt.training)

ConfigT = TypeVar("ConfigT")
ModelT = TypeVar("ModelT", bound="Pretrained")


# ----------------------------------------------------------------------------------------------- config <-> JSON


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON-ready values (tuples become lists)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(config_class: type[ConfigT], values: dict[str, Any], *, source: str = "config") -> ConfigT:
    """Rebuild a config dataclass; unknown keys are an error, missing keys take the dataclass defaults."""
    hints = typing.get_type_hints(config_class)
    names = {field.name for field in dataclasses.fields(config_class) if field.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserInputError(
            f"{source} has unknown field(s) {', '.join(unknown)} for {config_class.__name__}, "
            f"expected some of {', '.join(sorted(names))}."
        )
    kwargs = {name: _from_json(hints[name], value) for name, value in values.items()}
    for name, value in kwargs.items():
        expected = _plain_type(hints[name])
        if expected is not None and not _is_instance(value, expected):
            raise UserInputError(
                f"{source}: {name} must be {' or '.join(t.__name__ for t in expected)}, not {value!r}."
            )
    try:
        return config_class(**kwargs)
    except (TypeError, ValueError) as error:
        raise UserInputError(f"{source} is not a valid {config_class.__name__} ({error}).") from None


def _plain_type(hint: Any) -> tuple[type, ...] | None:
    """The JSON scalar types a field accepts (None allowed when Optional), or None when it is not a plain scalar."""
    origin = typing.get_origin(hint)
    options = typing.get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    if not all(option in (int, float, str, bool, type(None)) for option in options):
        return None
    return tuple(options)


def _is_instance(value: Any, expected: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is not a number
        return bool in expected
    return isinstance(value, expected) or (float in expected and isinstance(value, int))


def _from_json(hint: Any, value: Any) -> Any:
    """JSON has lists where the dataclass wants tuples, and dicts where it wants nested dataclasses."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return value if value is None or len(options) != 1 else _from_json(options[0], value)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return config_from_dict(hint, value, source=hint.__name__)
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], item) for item in value)
        return tuple(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def write_config(path: str | os.PathLike, config: Any, **extra: Any) -> None:
    """Write a config dataclass as JSON (atomically), with `extra` keys (model type, version) first."""
    save_json(path, {**extra, **config_to_dict(config)})


def read_json(path: str | os.PathLike, *, name: str = "config") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{name} file '{path}' does not exist.")
    try:
        values = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserInputError(f"{name} file '{path}' is not valid JSON ({error}).") from None
    if not isinstance(values, dict):
        raise UserInputError(f"{name} file '{path}' holds {type(values).__name__}, expected a JSON object.")
    return values


def read_config(path: str | os.PathLike, config_class: type[ConfigT], *, ignore: tuple[str, ...] = ()) -> ConfigT:
    """Read a config dataclass written by `write_config`, dropping bookkeeping keys named in `ignore`."""
    values = read_json(path)
    return config_from_dict(config_class, {k: v for k, v in values.items() if k not in ignore}, source=f"'{path}'")


def model_type_of(directory: str | os.PathLike) -> str:
    """The `model_type` recorded in a pretrained directory (to tell a tokenizer from a retriever, say)."""
    directory = _check_directory(directory)
    return str(read_json(directory / CONFIG_NAME).get("model_type", ""))


def resolve_model_dir(directory: str | os.PathLike) -> Path:
    """A model directory, or a training run directory holding one in `model/`: users may pass either."""
    directory = Path(directory)
    inner = directory / MODEL_SUBDIR
    if not (directory / WEIGHTS_NAME).is_file() and (inner / WEIGHTS_NAME).is_file():
        return inner
    return directory


def _check_directory(directory: str | os.PathLike) -> Path:
    directory = resolve_model_dir(directory)
    if not directory.is_dir():
        raise UserInputError(f"model directory '{directory}' does not exist (expected config.json + model.safetensors).")
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (directory / name).is_file():
            raise UserInputError(f"model directory '{directory}' has no {name}; is it a saved remogpt model?")
    return directory


# ----------------------------------------------------------------------------------------------------- the mixin


class Pretrained:
    """Mixin for `torch.nn.Module` models that hold a config dataclass in `self.config`.

    Subclasses set `model_type` (a stable name written into config.json) and `config_class`, and build the whole
    module from the config in `__init__(config)`. Extra artefacts (e.g. normalisation statistics as .npy for other
    tools) go in `save_extra_files(directory)`; everything needed to run the model must be in the state dict.
    """

    model_type: ClassVar[str]
    config_class: ClassVar[type]

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        from safetensors.torch import save_model

        from . import __version__

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / WEIGHTS_NAME) as tmp:
            save_model(self, str(tmp), metadata={"format": "pt", "model_type": self.model_type})
        self.save_extra_files(directory)
        # config last: a directory with a config.json is complete
        write_config(directory / CONFIG_NAME, self.config, model_type=self.model_type, remogpt_version=__version__)
        return directory

    def save_extra_files(self, directory: Path) -> None:
        """Hook for files besides config and weights; nothing by default."""

    @classmethod
    def from_pretrained(cls: type[ModelT], directory: str | os.PathLike, map_location: Any = "cpu") -> ModelT:
        from safetensors import SafetensorError
        from safetensors.torch import load_model

        directory = _check_directory(directory)
        values = read_json(directory / CONFIG_NAME)
        found = values.pop("model_type", None)
        values.pop("remogpt_version", None)
        if found != cls.model_type:
            raise UserInputError(
                f"model directory '{directory}' holds a '{found}' model, expected '{cls.model_type}'."
            )
        config = config_from_dict(cls.config_class, values, source=f"'{directory / CONFIG_NAME}'")
        try:
            model = cls(config)
        except (ValueError, RuntimeError, TypeError, ZeroDivisionError) as error:  # e.g. a negative size in the file
            raise UserInputError(f"'{directory / CONFIG_NAME}' does not describe a valid model ({error}).") from None
        try:
            load_model(model, str(directory / WEIGHTS_NAME), strict=True, device=str(map_location))
        except (RuntimeError, OSError, SafetensorError) as error:  # missing/unexpected tensors, wrong shapes, corrupt file
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserInputError(
                f"weights '{directory / WEIGHTS_NAME}' do not match its config.json ({first_line})."
            ) from None
        model.eval()
        model.pretrained_from = directory  # where it was read: a model directory copies it whole (pipeline.py)
        return model
