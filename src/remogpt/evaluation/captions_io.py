"""Reading captioning output for `remogpt evaluate captions`: one JSON object per line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UserInputError


def read_predictions(path: str | os.PathLike) -> list[dict]:
    """Rows {"id", "prediction": str, "references": [str, ...]}; every malformed line is named."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"predictions file '{path}' does not exist.")
    rows, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"line {number} of '{path}'"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserInputError(f"{where} is not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict) or not {"id", "prediction", "references"} <= set(row):
            raise UserInputError(f"{where} must be a JSON object with 'id', 'prediction' and 'references'.")
        if not isinstance(row["prediction"], str):
            raise UserInputError(f"{where} has a prediction that is not a string.")
        references = row["references"]
        if not isinstance(references, list) or not references or not all(isinstance(r, str) for r in references):
            raise UserInputError(f"{where} has 'references' that is not a non-empty list of strings.")
        key = json.dumps(row["id"])
        if key in seen:
            raise UserInputError(f"{where} repeats the id {key}.")
        seen.add(key)
        rows.append({"id": row["id"], "prediction": row["prediction"], "references": references})
    if not rows:
        raise UserInputError(f"predictions file '{path}' holds no predictions.")
    return rows
