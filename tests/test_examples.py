"""Every example script runs end to end at a tiny size (the gallery's smoke test).

The examples document their full-size runs; here each one is run as a user would
run it (``python examples/NAME.py ...``, in a fresh process) with the smallest
sizes that still exercise every step: training, label assignment, testing, the
figures and whatever the example adds (an edited model file, an ablation chart,
mean +- sd over seeds, generated digits).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import needs_standalone

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: example -> (tiny-size arguments, text its output must contain). The sizes match
#: those of other tests (tests/test_training.py, test_sym_stdp.py, test_adaptive_conv.py)
#: so that the session's compiled projects are shared: the same neurons and the same
#: chunk length (a run's longest phase when it is shorter than --chunk-slots).
TINY = {
    "diehl_cook_2015.py": (["--neurons", "20", "--train-samples", "40", "--assign-samples",
                            "20", "--test-samples", "20"],
                           ["test accuracy:", "figure:", "receptive_fields.png"]),
    "editing_a_model.py": (["--neurons", "20", "--train-samples", "40", "--assign-samples",
                            "20", "--test-samples", "20"],
                           ["valid; input_on_post is now", "unknown identifier 'pre_trace_pre'",
                            "triplet (shipped) STDP:", "pair (edited) STDP:"]),
    "large_network.py": (["--neurons", "20", "--train-samples", "40"],
                         ["devices on this machine:", "samples/s", "a full epoch",
                          "peak memory"]),
    "sym_stdp.py": (["--hidden", "30", "--train-samples", "100", "--assign-samples", "50",
                     "--test-samples", "50"],
                    ["test accuracy of the supervised layer:", "tsne.png"]),
    "adaptive_conv_stdp.py": (["--neurons", "30", "--train-samples", "50",
                               "--assign-samples", "50", "--test-samples", "50"],
                              ["test accuracy:", "kernels.png"]),
    "adaptive_conv_few_shot.py": (["--neurons", "30", "--sizes", "10", "--seeds", "1", "2",
                                   "--presentations", "50", "--test-samples", "50"],
                                  ["10 images:", "over 2 seeds (paper: 51.45%)"]),
    # one step (the default model); the other steps differ only in model-file switches,
    # whose effect tests/test_adaptive_conv.py checks
    "adaptive_conv_ablation.py": (["--neurons", "30", "--train-samples", "50",
                                   "--assign-samples", "50", "--test-samples", "50",
                                   "--steps", "asf-atb-alic-stb"],
                                  ["asf-atb-alic-stb:", "ablation.png"]),
    "mstdp.py": (["--hidden", "8", "--train-samples", "10", "--test-samples", "10",
                  "--per-label", "1"],
                 ["test accuracy of the label neurons:", "generated 10 digits",
                  "generated_digits.png"]),
}


def test_every_example_is_smoke_tested_and_documented():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(TINY), "add new examples to TINY (and old ones must exist)"
    for name in scripts:
        docstring = ast.get_docstring(ast.parse((EXAMPLES / name).read_text()))
        assert docstring, f"{name} has no docstring"
        title, underline = docstring.splitlines()[:2]
        assert set(underline) == {"="} and len(underline) == len(title), \
            f"{name}: the gallery needs a title underlined with '=' of the same length"
        assert "Run (" in docstring and "python examples/" + name in docstring, \
            f"{name} must say how to run it"


@needs_standalone
@pytest.mark.parametrize("name", list(TINY))
def test_example_runs_at_tiny_size(name, data_dir, tmp_path):
    arguments, expected = TINY[name]
    command = [sys.executable, str(EXAMPLES / name), *arguments, "--data-dir", str(data_dir),
               "--out", str(tmp_path / "out")]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name} failed:\n{output[-4000:]}"
    for text in expected:
        assert text in output, f"{name}: '{text}' not in its output:\n{result.stdout[-2000:]}"
