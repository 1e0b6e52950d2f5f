"""The `remogpt` command's own contract: usage mistakes are one sentence and exit code 2, never a traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args, needle",
    [
        ((), "Usage"),
        (("genrate",), "No such command"),
        (("generate",), "Missing argument"),
        (("generate", "a person walks"), "Missing option"),
        (("generate", "a person walks", "-o", "x.npy", "--seed", "abc"), "--seed"),
        (("generate", "a person walks", "-o", "x.npy", "--features", "true"), "unexpected extra argument"),
        (("train", "lm", "--data"), "requires an argument"),
    ],
)
def test_usage_mistakes_exit_2_without_a_traceback(run_cli, args, needle):
    code, out, err = run_cli(*args)
    assert code == 2 and needle in out + err and "Traceback" not in out + err


def test_version_and_help_exit_0(run_cli):
    from remogpt import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"remogpt {__version__}"
    code, out, _ = run_cli("--help")
    assert code == 0 and "generate" in out
