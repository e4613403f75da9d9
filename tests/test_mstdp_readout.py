"""benchmarks/mstdp_readout.py: accuracy at every phase end of a finished MSTDP run."""

import re

import numpy as np
import pytest

from bioplastic import mstdp
from bioplastic.training import Run, RunConfig
from conftest import benchmark_script

pytestmark = pytest.mark.usefixtures("numpy_target")  # tiny networks, nothing compiled


@pytest.fixture(scope="module")
def readout():
    return benchmark_script("mstdp_readout")


def test_accuracy_at_each_phase_end(readout):
    # 2 images (labels 1 and 0), 2 label neurons, two cycles: the start, clamped
    # end 1, free end 1, clamped end 2, free end 2
    ends = np.array([[[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.8, 0.2]],
                     [[0.0, 1.0], [0.8, 0.2], [0.7, 0.3], [0.9, 0.1], [0.1, 0.9]]])
    clamped, free = readout.phase_end_accuracies(ends, [1, 0])
    np.testing.assert_allclose(clamped, [1.0, 1.0])
    np.testing.assert_allclose(free, [0.5, 0.0])


def test_reads_a_finished_run_and_refuses_others(readout, tmp_path, data_dir, capsys):
    short = {"clamped_iterations": "3", "free_iterations": "2", "train_cycles": "2",
             "test_cycles": "1"}
    config = RunConfig(model="mstdp", n_neurons=5, train_samples=6, test_samples=8,
                       device="runtime", chunk_slots=4, overrides=short,
                       data_dir=str(data_dir))
    out = tmp_path / "run"
    Run(config, out, progress=False).run()
    capsys.readouterr()
    assert readout.main([str(out), "--cycles", "2", "--device", "runtime"]) == 0
    printed = capsys.readouterr().out
    rows = re.findall(r"^\| (\d) \| ([\d.]+)% \| ([\d.]+)% \|$", printed, re.MULTILINE)
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(0 <= float(value) <= 100 for row in rows for value in row[1:])
    assert "the run's own answer (end of clamped phase 1)" in printed
    assert "on its 8 test images" in printed and "here on 8" in printed

    (out / "results.json").unlink()  # as if the run had stopped before its test
    with pytest.raises(SystemExit, match=f"{re.escape(str(out))}: not a finished MSTDP run"):
        readout.main([str(out)])


def test_classify_images_answers_from_the_last_clamped_phase_end():
    model = mstdp.load_model(overrides={"clamped_iterations": "3", "free_iterations": "2",
                                        "test_cycles": "2"})
    state = mstdp.initial_state(model, 4, np.random.default_rng(1))
    images = np.random.default_rng(2).random((3, mstdp.N_INPUT))
    ends = mstdp.classify_phase_ends(model, state, 4, images, "runtime")
    assert ends.shape == (3, 1 + 2 * 2, mstdp.N_CLASSES)
    np.testing.assert_array_equal(mstdp.classify_images(model, state, 4, images, "runtime"),
                                  mstdp.predict(ends[:, -2]))
