"""benchmarks/accuracy.py: an edited model file is recorded in the result."""

import pytest

from bioplastic.modelfile import find_model_file
from conftest import benchmark_script


@pytest.fixture(scope="module")
def accuracy():
    return benchmark_script("accuracy")


def test_the_fields_an_edited_model_file_changes_are_recorded(accuracy, tmp_path):
    shipped = find_model_file("diehl_cook_2015.py").read_text()
    edited = tmp_path / "edited.py"
    edited.write_text(shipped.replace("tau_theta = 1e7*ms", "tau_theta = 2e7*ms")
                      .replace("input_sample_start = '''\npre = 0\n'''",
                               "input_sample_start = ''''''"))
    changes = accuracy.model_file_changes("diehl-cook", edited)
    assert set(changes) == {"input_sample_start", "tau_theta"}
    assert changes["input_sample_start"] == ""
    assert changes["tau_theta"] == "20. * ksecond"  # 2e7 ms, as Brian2 writes it
    assert accuracy.model_file_changes("diehl-cook", find_model_file("diehl_cook_2015.py")) == {}
