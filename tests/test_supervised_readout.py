"""benchmarks/supervised_readout.py: the tie figures on hand-made test counts."""

import numpy as np
import pytest

from conftest import benchmark_script


@pytest.fixture(scope="module")
def readout():
    return benchmark_script("supervised_readout")


def test_ties_untied_accuracy_and_linear_readout(readout):
    # 4 images, 3 hidden neurons, 2 classes. Image 0: clear win for class 0;
    # image 1: tie (the lower index, class 0, is wrong); image 2: clear wrong
    # answer; image 3: silent SL layer (no answer).
    outputs = np.array([[3, 1], [2, 2], [0, 4], [0, 0]])
    labels = np.array([0, 1, 0, 1])
    counts = np.array([[5, 0, 0], [0, 4, 0], [0, 0, 3], [0, 2, 0]])
    weights = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # neuron 2 votes class 0
    figures = readout.readout_figures({"test_counts": counts, "test_outputs": outputs,
                                       "test_labels": labels,
                                       "supervised_weights": weights})
    assert figures["tied images"] == pytest.approx(0.5)  # images 1 and 3 (0 = 0)
    # image 1's label is among its tied neurons; silent image 3 counts as tied, and
    # its label's neuron (0 spikes) is "among" them too
    assert figures["tied images with the label among the tied"] == pytest.approx(1.0)
    assert figures["SL accuracy, ties to the lowest index"] == pytest.approx(0.25)  # image 0
    assert figures["SL accuracy, untied images"] == pytest.approx(0.5)  # images 0 and 2
    # the tie of image 1 goes either way: on average half of it is right
    assert 0.25 < figures["SL accuracy, random tie break"] < 0.5
    assert figures["linear readout of learned weights"] == pytest.approx(1.0)
    assert figures["SL spikes per image"] == pytest.approx(3.0)
    assert figures["active hidden neurons per image"] == pytest.approx(1.0)
    assert "SL accuracy, first-spike tie break" not in figures  # not recorded
    # a run that recorded first spikes: image 1's class-1 neuron fired first
    first = np.array([[10, 50], [40, 20], [700, 5], [700, 700]])
    figures = readout.readout_figures({"test_counts": counts, "test_outputs": outputs,
                                       "test_labels": labels, "supervised_weights": weights,
                                       "test_first_spikes": first})
    assert figures["SL accuracy, first-spike tie break"] == pytest.approx(0.5)  # images 0, 1
