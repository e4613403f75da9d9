#!/usr/bin/env python
"""
Editing a model: swap Diehl & Cook's triplet STDP rule for a pair-based one
===========================================================================

Every equation and rule of a bioplastic model is a string in its model file. This
example edits one: in Diehl & Cook's network an excitatory spike potentiates a
synapse by ``nu_post x pre x post2``, where ``post2`` is a second postsynaptic
trace (a triplet rule: a lone pre->post pair does not potentiate). The edited copy
drops ``post2``, which gives the classic pair-based rule ``nu_post x pre``. Then:

1. the edited file is validated, and a deliberately broken edit (a misspelled
   variable) shows the error that names the file, the line and the field;
2. the original and the edited model are trained on the same images with the
   same seed, and their test accuracies are compared.

The same edit can be made by hand: copy ``models/diehl_cook_2015.py``, change
``input_on_post``, check it with ``bioplastic validate my_model.py`` and train it
with ``bioplastic train diehl-cook --model-file my_model.py``.

Run (about 2 minutes on two CPU cores; here the shipped rule answered 70.8% and
the pair rule 74.2% of the 1,000 test images)::

    python examples/editing_a_model.py --data-dir ../shared/data

With 400 neurons and the full training set (about 20 minutes per model)::

    python examples/editing_a_model.py --neurons 400 --train-samples 60000 \\
        --assign-samples 10000 --test-samples 10000 --out runs/edit-400
"""

import argparse
from pathlib import Path

from bioplastic import diehl_cook
from bioplastic.modelfile import ModelFileError, find_model_file
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="Edit a model file and compare")
parser.add_argument("--neurons", type=int, default=100)
parser.add_argument("--train-samples", type=int, default=3000)
parser.add_argument("--assign-samples", type=int, default=1000)
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-editing")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# ---- The edit: potentiation without the second postsynaptic trace ----------------
shipped = find_model_file(diehl_cook.MODEL_FILE)
triplet = "w = clip(w + nu_post * pre_pre * post2_before, 0, w_max)"
pair = "w = clip(w + nu_post * pre_pre, 0, w_max)"
text = shipped.read_text()
assert triplet in text, f"{shipped} no longer contains the line this example edits"
edited = out / "diehl_cook_pair_stdp.py"
edited.write_text(text.replace(triplet, pair))
model = diehl_cook.load_model(edited)  # parsed and validated, never executed
print(f"{edited}: valid; input_on_post is now\n{model['input_on_post']}")

# ---- A broken edit is caught before anything is built -----------------------------
broken = out / "diehl_cook_broken.py"
broken.write_text(text.replace(triplet, pair.replace("pre_pre", "pre_trace_pre")))
try:
    diehl_cook.load_model(broken)
except ModelFileError as error:
    print(f"the misspelled edit is rejected:\n  {error}")
else:
    raise RuntimeError("the broken model file was accepted")

# ---- Train both on the same images with the same seed -----------------------------
accuracy = {}
for name, model_file in (("triplet (shipped)", None), ("pair (edited)", str(edited))):
    config = RunConfig(model="diehl-cook", n_neurons=args.neurons,
                       train_samples=args.train_samples, assign_samples=args.assign_samples,
                       test_samples=args.test_samples, device=args.device,
                       curve_window=max(args.train_samples // 5, 1), model_file=model_file,
                       data_dir=args.data_dir)
    folder = out / ("triplet" if model_file is None else "pair")
    accuracy[name] = Run(config, folder).run()["accuracy_all"]
for name, value in accuracy.items():
    print(f"{name:>18} STDP: {100 * value:.1f}% on {args.test_samples} test images")
