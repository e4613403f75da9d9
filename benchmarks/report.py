"""Write docs/benchmarks.md from the result files in benchmarks/results/.

Every figure in that page comes from a JSON file written by a benchmark script, so
nothing is typed by hand. Usage::

    python benchmarks/report.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUTPUT = HERE.parent / "docs" / "benchmarks.md"
#: bioplastic.training.RunConfig's default (not imported: this script needs no Brian2)
DEFAULT_ASSIGN_SAMPLES = 10000

#: (model, dataset, neurons) -> (paper's figure, our target), in percent
TARGETS = {
    ("diehl-cook", "mnist", 100): ("82.9 (Diehl & Cook 2015)", 82.0),
    ("diehl-cook", "mnist", 400): ("87.0 (Diehl & Cook 2015); 91.0 in the sym-STDP "
                                   "paper's rerun", 87.0),
    ("diehl-cook", "fashion-mnist", 400): ("77.73 (sym-STDP paper's Diehl-Cook-style "
                                           "readout)", 77.0),
    ("diehl-cook", "mnist", 1600): ("91.9 (Diehl & Cook 2015)", None),
    ("diehl-cook", "mnist", 6400): ("95.0 (Diehl & Cook 2015)", None),
    ("sym-stdp", "mnist", 400): ("91.41 layer-by-layer, 91.13 simultaneous (Hao et al. "
                                 "2020, 5 epochs)", 91.0),
    ("sym-stdp", "fashion-mnist", 400): ("78.68 layer-by-layer, 77.61 simultaneous "
                                         "(Hao et al. 2020)", 78.0),
    ("sym-stdp", "mnist", 100): ("83.57 layer-by-layer (Hao et al. 2020, 3 epochs)", None),
    # any size (the paper varies it; its best figures)
    ("adaptive-conv", "mnist", None): ("97.9 (Dong et al. 2023)", 97.0),
    ("adaptive-conv", "fashion-mnist", None): ("87.0 (Dong et al. 2023)", 85.0),
}

#: few-shot MNIST, the paper's Table 3 (training images -> SNN accuracy, ANN)
FEW_SHOT_PAPER = {10: (51.45, 47.12), 50: (72.88, 68.72), 100: (75.44, 71.40),
                  200: (81.45, 79.77)}


def _is_study(result):
    """Ablation and few-shot runs have their own tables; validation runs are no test figures."""
    command = result.get("benchmark", {}).get("command", "")
    return (bool(result["config"].get("balanced")) or "adaptive_conv_ablation" in command
            or result["config"].get("test_split", "test") != "test")


def _load(pattern):
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob(pattern))]


def _machine(machine):
    gpu = f", GPU {machine['gpu']}" if machine.get("gpu") else ""
    return (f"{machine['cpu']}, {machine['cores']} cores{gpu}, Python {machine['python']}, "
            f"Brian2 {machine['brian2']}, numpy {machine['numpy']}")


def _machines_line(results):
    """'Machine: ...' for the machines the results ran on."""
    return "Machine: " + "; ".join(sorted({_machine(r["machine"]) for r in results}))


def _gpu_device(device, machine):
    """The device, with the GPU it ran on for the GPU devices ('genn (GPU NVIDIA H200)')."""
    if device in ("genn", "cuda_standalone") and machine.get("gpu"):
        return f"{device} (GPU {machine['gpu'].split(',')[0]})"
    return device


def _train_seconds(result):
    return sum(info["seconds"] for name, info in result["phases"].items()
               if name.startswith("train"))


def _paper_and_target(model, dataset, neurons):
    return TARGETS.get((model, dataset, neurons), TARGETS.get((model, dataset, None), ("", None)))


def _verdict(accuracy, target):
    """'yes', 'no (-4.7 points)' or '' (no target), for percentages."""
    if target is None:
        return ""
    return "yes" if accuracy >= target else f"no ({accuracy - target:+.1f} points)"


def _run_name(cfg, result=None):
    """Model (schedule), model-file overrides and edits, as the tables show them."""
    name = cfg.get("model", "diehl-cook") + (f" ({cfg['schedule']})" if cfg.get("schedule") else "")
    overrides = cfg.get("overrides") or {}
    if overrides:
        name += " " + ", ".join(f"`{k}={v}`" for k, v in overrides.items())
    edits = (result or {}).get("model_file_changes") or {}
    if edits:  # an edited copy of the model file (benchmarks/accuracy.py --model-file)
        name += " edited model file: " + ", ".join(
            f"`{k}={v.strip()!r}`" for k, v in edits.items())
    earlier = (result or {}).get("earlier_model_values") or {}
    if earlier:  # run with the shipped file of its day, whose values changed since
        name += " (model file of its day: " + ", ".join(
            f"`{k}={v}`" for k, v in earlier.items()) + ")"
    return name


def _headline_runs():
    """The full-size accuracy runs (no ablation or few-shot), with their headline figure.

    The headline is the all-activity vote for Diehl & Cook and adaptive conv, and the
    supervised layer's answer for sym-STDP.
    """
    runs = []
    for result in _load("*.json"):
        if "accuracy_all" not in result or _is_study(result):
            continue
        cfg = result["config"]
        model = cfg.get("model", "diehl-cook")
        paper, target = _paper_and_target(model, cfg["dataset"], cfg["n_neurons"])
        accuracy = 100 * result.get("accuracy_supervised", result["accuracy_all"])
        runs.append(dict(result=result, cfg=cfg, model=model, paper=paper, target=target,
                         accuracy=accuracy, train_seconds=_train_seconds(result)))
    return runs


def accuracy_section():
    lines = ["## Accuracy (full test sets)", "",
             "Training as listed, labels assigned on the first `assign_samples` "
             "training images with the network frozen, then the test set. The "
             "headline accuracy is the all-activity vote for Diehl & Cook and the "
             "supervised layer's answer for sym-STDP (whose label-statistics readout is "
             "shown beside it for comparison). Times are wall-clock time of the "
             "simulation phases.", "",
             "| model | dataset | neurons | train samples | test samples | accuracy | "
             "label statistics (all / proportion vote) | paper | target | met | "
             "train time | assign + test time | device |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    machines, commands = set(), []
    for run in _headline_runs():
        result, cfg, target = run["result"], run["cfg"], run["target"]
        phases = result["phases"]
        evaluation = phases["assign"]["seconds"] + phases["test"]["seconds"]
        lines.append(
            f"| {_run_name(cfg, result)} | {cfg['dataset']} | {cfg['n_neurons']} | "
            f"{cfg['train_samples']} x "
            f"{cfg['epochs']} | {phases['test']['samples']} | {run['accuracy']:.2f}% | "
            f"{100 * result['accuracy_all']:.2f}% / "
            f"{100 * result['accuracy_proportion']:.2f}% | {run['paper']} | "
            f"{'' if target is None else f'>= {target:g}%'} | "
            f"{_verdict(run['accuracy'], target)} | "
            f"{run['train_seconds'] / 60:.1f} min | {evaluation / 60:.1f} min | "
            f"{_gpu_device(cfg['device'], result['machine'])} |")
        machines.add(_machine(result["machine"]))
        if "benchmark" in result:
            commands.append(f"    {result['benchmark']['command']}   "
                            f"# {result['benchmark']['date']}")
    lines += ["", "Commands:", ""] + commands + ["", "Machine: " + "; ".join(sorted(machines)), ""]
    return lines


def mstdp_section():
    """The MSTDP energy network: label-neuron accuracy and generated digits."""
    lines = ["## MSTDP energy network (MNIST)", "",
             "Trained on the first `train samples` MNIST training images, then the "
             "classify mode (image clamped, answer = label neuron with the largest state "
             "after the last clamped phase) on the first `test samples` test images "
             "(10,000: the full test set; only those rows enter the reproduction "
             "table). *Generated* is the "
             "fraction of digits generated from each label (10 per class) that the same "
             "network's classify mode labels with that class. Paper: 96% on 500 test "
             "samples after 10,000 training samples shown 50 times, 2048 hidden neurons. "
             "*Ran away*: the phase and sample count at whose chunk's end the states "
             "first passed the model's bound (`DivergenceWarning`; recorded in the results "
             "since 2026-11-27, so older rows leave it blank even where docs/mstdp.md "
             "reports a run-away).",
             "", "| hidden | iterations per sample (clamped + free) x cycles | train samples "
             "| test samples | accuracy | target | met | ran away | generated | train time "
             "| test time | device |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    commands, found = [], False
    for result in _load("mstdp_*.json"):
        if "accuracy_label" not in result:
            continue
        found = True
        cfg, phases = result["config"], result["phases"]
        overrides = cfg.get("overrides") or {}
        iterations = (f"({overrides.get('clamped_iterations', 32)} + "
                      f"{overrides.get('free_iterations', 32)}) x "
                      f"{overrides.get('train_cycles', 10)}")
        others = {k: v for k, v in overrides.items() if k not in
                  ("clamped_iterations", "free_iterations", "train_cycles")}
        if others:
            iterations += " " + ", ".join(f"`{k}={v}`" for k, v in others.items())
        if cfg.get("seed", 1) != 1:
            iterations += f" seed {cfg['seed']}"
        accuracy = 100 * result["accuracy_label"]
        generated = result.get("generation", {}).get("self_classified")
        diverged = result.get("diverged")
        ran_away = f"{diverged['phase']}, by {diverged['samples']}" if diverged else ""
        lines.append(
            f"| {cfg['n_neurons']} | {iterations} | {cfg['train_samples']} x {cfg['epochs']} | "
            f"{phases['test']['samples']} | {accuracy:.2f}% | >= 93% | "
            f"{_verdict(accuracy, 93.0)} | {ran_away} | {'' if generated is None else f'{100 * generated:.0f}%'} | "
            f"{phases['train']['seconds'] / 60:.1f} min | {phases['test']['seconds'] / 60:.1f} min "
            f"| {_gpu_device(cfg['device'], result['machine'])} |")
        if "benchmark" in result:
            commands.append(f"    {result['benchmark']['command']}   "
                            f"# {result['benchmark']['date']}")
    if not found:
        return []
    return lines + ["", "Commands:", ""] + commands + [""]


def _sample_sd(values):
    """Sample standard deviation (ddof=1), as the sweep tables; 0 for one value."""
    import numpy as np
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _presentations(result):
    """Presentations per layer a few-shot result was asked for: few_shot.py records
    it (500 for 3 x 200 images); a result made otherwise gives the number shown."""
    cfg = result["config"]
    return result["benchmark"].get("presentations", cfg["train_samples"] * cfg["epochs"])


def _few_shot_groups(split="test"):
    """Few-shot results scored on ``split``, by (model-file overrides, layer size,
    training images, presentations asked for).

    The model file's defaults (no overrides) sort first; runs with other values
    (or another number of presentations) are grouped apart, so that they never
    enter the default rows' mean.
    """
    few = {}
    for result in _load("adaptive_conv_few_shot_*.json"):
        cfg = result["config"]
        if cfg.get("test_split", "test") != split:
            continue
        overrides = tuple(sorted(cfg["overrides"].items()))
        key = (overrides, cfg["n_neurons"], cfg["train_samples"], _presentations(result))
        few.setdefault(key, []).append(result)
    return dict(sorted(few.items()))


def _few_shot_setting(overrides, default="model file"):
    return ", ".join(f"`{name}={value}`" for name, value in overrides) or default


def _mean_sd_percent(values):
    """Mean accuracy in %, with the sample sd when there is more than one seed."""
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.2f}%"
    return f"{mean:.2f} ± {_sample_sd(values):.2f}%"


def _few_shot_command(runs):
    cfg = runs[0]["config"]
    presentations = _presentations(runs[0])
    return (f"python benchmarks/few_shot.py --neurons {cfg['n_neurons']} --sizes "
            f"{cfg['train_samples']} --seeds "
            + " ".join(str(r["config"]["seed"]) for r in runs)
            + f" --presentations {presentations}"
            + "".join(f" --set {name}={value}" for name, value in sorted(cfg["overrides"].items()))
            + ("" if cfg.get("test_split", "test") == "test"
               else f" --test-split {cfg['test_split']}"))


def _few_shot_table(groups, caption, columns, cells):
    """Lines of one few-shot table: setting, images, ``columns[0]`` (the mean), seeds,
    then ``columns[1:]`` filled by ``cells(size, config)``; its commands and machines."""
    if not groups:
        return []
    header = ("setting", "training images", columns[0], "seeds") + tuple(columns[1:])
    lines = [caption, "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for (overrides, _, size, _), runs in groups.items():
        values = [100 * r["accuracy_all"] for r in runs]
        row = [_few_shot_setting(overrides), size, _mean_sd_percent(values), len(values)]
        lines.append("| " + " | ".join(map(str, row + cells(size, runs[0]["config"]))) + " |")
    lines += ["", "Commands:", ""] + [f"    {_few_shot_command(runs)}   "
                                      f"# {runs[0]['benchmark']['date']}"
                                      for runs in groups.values()]
    return lines + ["", _machines_line([r for runs in groups.values() for r in runs]), ""]


def conv_section():
    """Adaptive convolutional STDP: ablation (Fig. 5) and few-shot (Table 3) tables."""
    lines = ["## Adaptive convolutional STDP", "",
             "The full-size runs are in the accuracy table above. Below, the ablation "
             "adds one module at a time (`benchmarks/conv_ablation.py`), and the "
             "few-shot runs train on a class-balanced handful of images "
             "(`benchmarks/few_shot.py`); both score the full 10,000-image MNIST test "
             "set with the all-activity vote.", ""]
    ablation = [r for r in _load("adaptive_conv_ablation_*.json")]
    if ablation:
        cfg = ablation[0]["config"]
        lines += [f"Ablation: {cfg['n_neurons']} fully connected neurons, "
                  f"{cfg['train_samples']} training images per layer, "
                  f"{cfg['assign_samples']} for label assignment, {cfg['dataset']}.", "",
                  "| modules | accuracy (all-activity vote) | proportion vote | train time | "
                  "device |", "|---|---|---|---|---|"]
        rows = []
        for result in ablation:
            overrides = result["config"]["overrides"]
            on = [name.upper() for name in ("asf", "atb", "alic", "stb")
                  if str(overrides.get(f"{name}_on", "1")) == "1"]
            label = "STDP only" if not on else "STDP + " + " + ".join(on)
            training = _train_seconds(result)
            rows.append((label, result["accuracy_all"]))
            lines.append(f"| {label} | {100 * result['accuracy_all']:.2f}% | "
                         f"{100 * result['accuracy_proportion']:.2f}% | "
                         f"{training / 60:.1f} min | {result['config']['device']} |")
        # matplotlib is a dependency: without it the page would silently differ
        from bioplastic.plotting import ablation_chart
        ablation_chart(rows, OUTPUT.parent / "images" / "conv-ablation.png",
                       title="Adaptive conv STDP: ablation (MNIST test accuracy)")
        lines += ["", "![ablation](images/conv-ablation.png)"]
        lines += ["", "Commands:", ""] + [f"    {r['benchmark']['command']}   "
                                          f"# {r['benchmark']['date']}" for r in ablation]
        lines += ["", _machines_line(ablation), ""]
    few, screened = _few_shot_groups(), _few_shot_groups("validation")
    baseline = _few_shot_pixel_baseline("")
    lines += _few_shot_table(
        few, "Few-shot MNIST (training images drawn with the seed, the same number per "
        "class; labels assigned with the same images; mean ± sample sd over the seeds). "
        "The pixel 1-NN column answers each test image with the label of the most "
        "cosine-similar of the same drawn images, pixel by pixel, with no network "
        "(`few_shot.py --pixel-baseline`, seeds 1-3).",
        ("accuracy, mean ± sd", "presentations per layer", "neurons", "pixel 1-NN",
         "paper (SNN)", "paper (ANN)"),
        lambda size, cfg: [size * cfg["epochs"], cfg["n_neurons"], baseline(size)] + [
            "" if paper is None else f"{paper:.2f}%"
            for paper in FEW_SHOT_PAPER.get(size, (None, None))])
    screened_baseline = _few_shot_pixel_baseline("_validation")
    lines += _few_shot_table(
        screened, "Few-shot settings compared on a validation split (`few_shot.py "
        "--test-split validation`): the images are drawn from training images before "
        "the split, and the split (the last training images) is scored; the test set is "
        "not used. These choose settings and are not test figures.",
        ("validation accuracy, mean ± sd", "validation images", "presentations per layer",
         "neurons", "pixel 1-NN"),
        lambda size, cfg: [cfg["test_samples"], size * cfg["epochs"], cfg["n_neurons"],
                           screened_baseline(size)])
    readouts = _load("adaptive_conv_features_*.json")
    if readouts:
        lines += ["Linear readout of the convolution features (`benchmarks/conv_features.py`): "
                  "a logistic regression on the spike counts the 2 x 2 max pooling passes "
                  "to the fully connected layer, fitted on the fit images (C chosen on "
                  "their last fifth) and scored on the first test images. It shows what "
                  "a linear readout finds in the features; it is not the paper's "
                  "readout. The nearest-prototype column (`--prototypes`) is the voting "
                  "layer's best case: K k-means prototypes of the L2-normalised fit "
                  "counts, each labelled by Diehl & Cook's assignment, and each test "
                  "image answered by its nearest prototype's label. The 1-NN column "
                  "(`--nearest-neighbour`) answers each test image with the label of "
                  "its most cosine-similar fit image. Rows marked pixels (`--pixels`) "
                  "read out the same images' pixels instead, with no network.", "",
                  "| dataset | kernels | kernel training images | features | pooled "
                  "spikes per image | fit / test images | linear readout | nearest "
                  "prototype (K: accuracy) | 1-NN | time | command |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for result in readouts:
            cfg = result["config"]
            pixels = cfg.get("features_of") == "pixels"
            kernels = ("pixels (no network)" if pixels else
                       f"{cfg['kernels']} of {cfg['kernel_size']} x {cfg['kernel_size']}")
            trained = "-" if pixels else (cfg["train_samples"] or "none (random)")
            spikes = result.get("pooled_spikes_per_image")
            nearest = result.get("nearest_neighbour_accuracy")
            lines.append(
                f"| {cfg['dataset']} | {kernels} | {trained} | "
                f"{result['features']} | {'-' if spikes is None else f'{spikes:.0f}'} | "
                f"{cfg['fit_samples']} / {cfg['eval_samples']} | "
                f"{100 * result['linear_accuracy']:.2f}% | "
                f"{_prototype_cell(result.get('prototype_accuracy'))} | "
                f"{'-' if nearest is None else f'{100 * nearest:.2f}%'} | "
                f"{_duration(result['total_seconds'])} | "
                f"`{result['benchmark']['command']}` ({result['benchmark']['date']}) |")
        lines += ["", _machines_line(readouts), ""]
    return lines if (ablation or few or screened or readouts) else []


def _few_shot_pixel_baseline(suffix):
    """size -> 'mean ± sd' of few_shot.py --pixel-baseline's result file with
    ``suffix`` ('' or '_validation'), or a dash where there is none."""
    path = RESULTS / f"adaptive_conv_pixel_baseline_few_shot{suffix}.json"
    accuracy = json.loads(path.read_text())["accuracy"] if path.exists() else {}
    return lambda size: (_mean_sd_percent([100 * a for a in accuracy[str(size)]])
                         if str(size) in accuracy else "-")


def _prototype_cell(accuracies):
    """'400: 88.15%, 1600: 90.35%' from conv_features' prototype_accuracy, or a dash."""
    if not accuracies:
        return "-"
    return ", ".join(f"{k}: {100 * v:.2f}%" for k, v in
                     sorted(accuracies.items(), key=lambda item: int(item[0])))


def prototype_section():
    """Nearest k-means prototypes of the pixels (benchmarks/pixel_prototypes.py) beside
    the targets of the prototype networks (Diehl & Cook, sym-STDP) of that size."""
    results = _load("pixel_prototypes_*.json")
    if not results:
        return []
    lines = ["## The prototype networks' ceiling", "",
             "Diehl & Cook's network and the sym-STDP hidden layer classify with neurons "
             "that each learn a prototype image. Their ideal is a nearest-prototype "
             "classifier: K k-means prototypes (scikit-learn) of all 60,000 "
             "L2-normalised training images (of the first N where the command says "
             "`--fit-samples N`), labelled by Diehl & Cook's assignment from "
             "the first `assign_samples` training images, each test image answered by its "
             "nearest prototype's label (`benchmarks/pixel_prototypes.py`; not a spiking "
             "model). Full test sets; mean ± sample sd over k-means seeds.", "",
             "| dataset | prototypes | accuracy | seeds | targets of a network this size "
             "| command |", "|---|---|---|---|---|---|"]
    for result in results:
        cfg = result["config"]
        for k, values in result["accuracy"].items():
            targets = [f"{model} {target:.1f}%" for model in ("diehl-cook", "sym-stdp")
                       for _, target in [_paper_and_target(model, cfg["dataset"], int(k))]
                       if target is not None]
            lines.append(f"| {cfg['dataset']} | {k} | "
                         f"{_mean_sd_percent([100 * v for v in values])} | {len(values)} | "
                         f"{', '.join(targets) or '-'} | "
                         f"`{result['benchmark']['command']}` ({result['benchmark']['date']}) |")
    return lines + ["", _machines_line(results), ""]


def learned_prototype_section():
    """Trained networks' weight columns read out as nearest prototypes
    (benchmarks/learned_prototypes.py) beside the networks' own accuracy."""
    results = _load("learned_prototypes_*.json")
    if not results:
        return []
    lines = ["## The learned prototypes without spikes", "",
             "Each trained network's input weight columns scored as a nearest-prototype "
             "classifier: each image goes to the neuron whose column it is most "
             "cosine-similar to, the neurons labelled from the run's own assignment "
             "images, scored on the run's own test images "
             "(`benchmarks/learned_prototypes.py`). The difference to the network's "
             "accuracy is what the spiking inference and the vote lose or add. The "
             "soft readout (`--temperatures`) labels and votes with the responses "
             "softmax(cosine / T) in place of spike counts (all/proportion vote at "
             "each T).", "",
             "| model | dataset | neurons | seed | model-file values | scored on "
             "| network (all/proportion vote) | weights as prototypes | soft readout |",
             "|---|---|---|---|---|---|---|---|---|"]
    # the layout of the rerun scripts' results: runs, then command, date and machine
    flat = [{"runs": r["runs"], "command": r["benchmark"]["command"],
             "date": r["benchmark"]["date"], "machine": r["machine"]} for r in results]
    return _rerun_table(flat, lines, _learned_prototype_row)


def _learned_prototype_row(run):
    values = ", ".join(f"`{k}={v}`" for k, v in sorted(run["overrides"].items()))
    return (f"| {run['model']} | {run['dataset']} | {run['neurons']} | {run['seed']} | "
            f"{values or '-'} | {run['test_samples']} {run['test_split']} images | "
            f"{_vote_cells(run['network_accuracy'])} | "
            f"{100 * run['prototype_accuracy']:.2f}% | {_soft_vote_cells(run)} |")


def _soft_vote_cells(run):
    """'T: all/proportion%' of each soft readout of a run, '-' without any."""
    return "; ".join(f"{soft['temperature']:g}: {100 * soft['all']:.2f}/"
                     f"{100 * soft['proportion']:.2f}%"
                     for soft in run.get("soft_vote", [])) or "-"


def sweep_section():
    """Multi-seed sweeps (benchmarks/sweep.py): mean ± sd per configuration."""
    sweeps = _load("sweep_*.json")
    if not sweeps:
        return []
    lines = ["## Multi-seed sweeps", "",
             "Each row is one configuration trained with every listed seed (one ordinary "
             "run per seed, on a Dask LocalCluster); accuracies are the mean ± sample "
             "standard deviation over the seeds on the full test set (on the validation "
             "split where a sweep says so: those screen settings and are not compared "
             "with a target), train time the mean per run (the runs of a sweep share the "
             "machine's cores).", ""]
    for result in sweeps:
        sweep, bench = result["sweep"], result["benchmark"]
        settings = {k: v for k, v in sweep["document"].get("settings", {}).items()}
        protocol = sweep["document"].get("protocol", {})
        parameters = sweep["document"].get("parameters", {})
        lines += [f"### {sweep['name']} ({sweep['model']})", "",
                  "Settings: " + ", ".join(f"{k} = {v}" for k, v in
                                           {**settings, **protocol}.items()) + "."
                  + ("" if not parameters else " Model-file values: " + ", ".join(
                      f"`{k} = {v}`" for k, v in parameters.items()) + "."), ""]
        if _sweep_split(sweep) == "validation":
            lines += [f"Scored on the validation split: the last "
                      f"{protocol.get('test_samples')} training images, which training "
                      "did not show; not test-set figures.", ""]
        lines += [result["table"].strip(), ""]
        key = (sweep["model"], settings.get("dataset", "mnist"), settings.get("neurons"))
        paper, target = TARGETS.get(key, ("", None))
        headline = [row for row in result["summary"] if row.get("accuracy_mean") is not None]
        if target is not None and headline and _sweep_split(sweep) == "test":
            best = max(headline, key=lambda row: row["accuracy_mean"])
            mean = 100 * best["accuracy_mean"]
            which = ", ".join(f"{name} = {best[name]}" for name in sweep["varied"])
            which = f" by the best configuration ({which})" if which else " by the mean"
            verdict = "met" if mean >= target else f"not met ({mean - target:+.2f} points)"
            lines += [f"Paper: {paper}. Target {target:.1f}%: {verdict}{which}.", ""]
        lines += [
                  f"`{bench['command']}` ({bench['date']}; {bench['workers']} workers, "
                  f"{bench['wall_seconds_this_invocation'] / 60:.0f} min wall clock). "
                  f"Machine: {_machine(result['machine'])}.", ""]
    return lines


def _sweep_split(sweep):
    """The split a sweep's points were scored on ('test' or 'validation')."""
    return sweep["document"].get("protocol", {}).get("test_split", "test")


def _epochs_note(protocol):
    """', 2 epochs' for a sweep trained for more than one epoch, else ''."""
    epochs = protocol.get("epochs", 1)
    return f", {epochs} epochs" if epochs > 1 else ""


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


#: order of the models in the reproduction table
MODEL_ORDER = ["diehl-cook", "sym-stdp", "adaptive-conv", "mstdp"]


def reproduction_rows():
    """One row per reproduced result: paper figure, ours, time, device, command.

    Returns
    -------
    list of dict
        Keys ``model, dataset, size, setting, paper, ours, met, train_time, device,
        command, date`` (strings ready for a table).
    """
    rows = []
    for run in _headline_runs():
        result, cfg = run["result"], run["cfg"]
        rows.append(dict(model=cfg.get("model", "diehl-cook"), dataset=cfg["dataset"],
                         size=cfg["n_neurons"],
                         setting=_run_name(cfg, result).partition(" ")[2] +
                         (f" {cfg['epochs']} epochs" if cfg["epochs"] > 1 else ""),
                         paper=run["paper"], ours=f"{run['accuracy']:.2f}%",
                         met=_verdict(run["accuracy"], run["target"]),
                         train_time=_duration(run["train_seconds"]),
                         device=_gpu_device(cfg["device"], result["machine"]),
                         command=result["benchmark"]["command"],
                         date=result["benchmark"]["date"]))
    for result in _load("mstdp_*.json"):
        if "accuracy_label" not in result or result["phases"]["test"]["samples"] < 10000:
            continue  # part-test-set runs are listed in the MSTDP section only
        cfg = result["config"]
        accuracy = 100 * result["accuracy_label"]
        overrides = cfg.get("overrides") or {}
        rows.append(dict(model="mstdp", dataset=cfg["dataset"], size=cfg["n_neurons"],
                         setting=", ".join(f"`{k}={v}`" for k, v in overrides.items())
                         + f" {cfg['train_samples']} images x {cfg['epochs']}",
                         paper="96 on 500 test images (2048 hidden, 50 epochs)",
                         ours=f"{accuracy:.2f}%", met=_verdict(accuracy, 93.0),
                         train_time=_duration(_train_seconds(result)),
                         device=_gpu_device(cfg["device"], result["machine"]),
                         command=result["benchmark"]["command"],
                         date=result["benchmark"]["date"]))
    for (overrides, _, size, _), runs in _few_shot_groups().items():
        values = [100 * r["accuracy_all"] for r in runs]
        cfg = runs[0]["config"]
        snn, _ = FEW_SHOT_PAPER.get(size, (None, None))
        setting = _few_shot_setting(overrides, default="")
        rows.append(dict(model="adaptive-conv", dataset=cfg["dataset"], size=cfg["n_neurons"],
                         setting=f"{setting} few-shot, {size} images, {len(values)} ".lstrip()
                                 + ("seeds" if len(values) > 1 else "seed"),
                         paper="" if snn is None else f"{snn:.2f}",
                         ours=_mean_sd_percent(values),
                         met="", train_time=_duration(sum(map(_train_seconds, runs)) / len(runs))
                         + " per seed", device=_gpu_device(cfg["device"], runs[0]["machine"]),
                         command=_few_shot_command(runs),
                         date=runs[0]["benchmark"]["date"]))
    for result in _load("sweep_*.json"):
        sweep, bench = result["sweep"], result["benchmark"]
        settings = sweep["document"].get("settings", {})
        headline = [row for row in result["summary"] if row.get("accuracy_mean") is not None]
        if not headline or _sweep_split(sweep) != "test":
            continue
        best = max(headline, key=lambda row: row["accuracy_mean"])
        paper, target = _paper_and_target(sweep["model"], settings.get("dataset", "mnist"),
                                          settings.get("neurons"))
        mean = 100 * best["accuracy_mean"]
        sd = "" if best["accuracy_sd"] is None else f" ± {100 * best['accuracy_sd']:.2f}"
        # fixed model-file values, then the best point's varied ones
        configuration = ", ".join(
            [f"`{name}={value}`" for name, value in
             sweep["document"].get("parameters", {}).items()]
            + [f"`{name}={best[name]}`" for name in sweep["varied"]])
        rows.append(dict(model=sweep["model"], dataset=settings.get("dataset", "mnist"),
                         size=settings.get("neurons"),
                         setting=(configuration + " " if configuration else "")
                         + f"{best['n']} seed{'s' if best['n'] > 1 else ''}"
                         + _epochs_note(sweep["document"].get("protocol", {}))
                         + (" (best of the sweep)" if sweep["varied"] else ""),
                         paper=paper, ours=f"{mean:.2f}{sd}%", met=_verdict(mean, target),
                         train_time=_duration(best["train_seconds_mean"]) + " per seed",
                         device=settings.get("device", "cpp_standalone"),
                         command=bench["command"], date=bench["date"]))
    rows.sort(key=lambda row: (MODEL_ORDER.index(row["model"]), row["dataset"] != "mnist",
                               row["dataset"], row["size"] or 0))
    return rows


def reproduction_section():
    """The reproduction table: every paper result we ran, with the command."""
    lines = ["## Reproduction table", "",
             "Every paper result that a benchmark reproduced, on the full test set "
             "(10,000 images). *Ours* is the "
             "headline figure (Diehl & Cook and adaptive conv: all-activity vote; "
             "sym-STDP: the supervised layer; MSTDP: the label neurons); multi-seed "
             "rows give mean ± sample sd. Training time is wall-clock on the machine "
             "below; *met* compares with the target set for this package.", "",
             "| model | dataset | size | setting | paper (%) | ours | target met | "
             "training time | device | command |", "|---|---|---|---|---|---|---|---|---|---|"]
    machines = {_machine(r["machine"]) for r in _load("*.json") if "machine" in r}
    for row in reproduction_rows():
        lines.append(f"| {row['model']} | {row['dataset']} | {row['size']} | "
                     f"{row['setting'].strip()} | {row['paper']} | {row['ours']} | "
                     f"{row['met']} | {row['train_time']} | {row['device']} | "
                     f"`{row['command']}` ({row['date']}) |")
    return lines + ["", "Machine: " + "; ".join(sorted(machines)), ""]


def retest_section():
    """Test phases run again on trained networks (benchmarks/retest.py)."""
    retests = _load("retest_*.json")
    if not retests:
        return []
    lines = ["## Test phases run again", "",
             "`benchmarks/retest.py` runs the test phase of a finished run again with "
             "the current code and the same seed, on the trained network. Here it "
             "measures the supervised layer's tie-break by first spike: \"count only\" "
             "gives a tie to the lowest class index (the rule of the stored result), "
             "\"first spike\" to the neuron that fired first. \"test-time change\" is a "
             "model-file value set for label assignment and test only (one that training "
             "does not read). \"stored\" is the run's own headline figure; the vote "
             "columns are label statistics (all-activity / proportion). \"repeated\" "
             "names the test spike counts that equal the stored ones (\"counts\": the "
             "voting layer's, \"SL\": the supervised layer's).", "",
             "| run | dataset | settings | seed | test-time change | stored | vote all / "
             "proportion | SL count only | SL first spike | repeated |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    return _rerun_table(retests, lines, _retest_row)


def _retest_row(run):
    accuracies = run["accuracies"]
    changes = run.get("test_overrides") or {}
    settings = ", ".join(f"`{k}={v}`" for k, v in run["overrides"].items()
                         if k not in changes) or "-"
    change = ", ".join(f"`{k}={v}`" for k, v in changes.items()) or "-"
    if run.get("assign_samples", DEFAULT_ASSIGN_SAMPLES) != DEFAULT_ASSIGN_SAMPLES:
        change += f", labels from {run['assign_samples']} images"
    if run.get("test_split", "test") != "test":
        change += f" ({run['test_split']} split)"
    repeated = run["repeated_exactly"]
    same = " + ".join(name for key, name in (("test_counts", "counts"),
                                             ("test_outputs", "SL"))
                      if repeated.get(key)) or "no"
    percent = lambda key: (f"{100 * accuracies[key]:.2f}%"  # noqa: E731
                           if key in accuracies else "-")
    return (f"| {Path(run['run']).name} | {run['dataset']} | {settings} | {run['seed']} | "
            f"{change} | {100 * run['stored_accuracy']:.2f}% | {_vote_cells(accuracies)} | "
            f"{percent('accuracy_supervised_count_only')} | "
            f"{percent('accuracy_supervised')} | {same} |")


def _rerun_table(results, lines, row):
    """``lines`` plus one row per rerun run, the commands and the machines."""
    notes, machines = [], set()
    for result in results:
        lines += [row(run) for run in result["runs"]]
        notes.append(f"* `{result['command']}` ({result['date']})")
        machines.add(_machine(result["machine"]))
    return lines + [""] + notes + ["", "Machine: " + "; ".join(sorted(machines)), ""]


def _vote_cells(accuracies):
    """'all/proportion%' of the label-statistics votes, '-' for a run without them."""
    cells = "/".join(f"{100 * accuracies[f'accuracy_{vote}']:.2f}"
                     for vote in ("all", "proportion") if f"accuracy_{vote}" in accuracies)
    return f"{cells}%" if cells else "-"


def _accuracy_cells(accuracies):
    """'all / proportion' vote, and the output layer's answer where there is one."""
    output = [v for k, v in accuracies.items() if k in ("accuracy_supervised",
                                                        "accuracy_label")]
    return f"{_vote_cells(accuracies)} | " + (f"{100 * output[0]:.2f}%" if output else "-")


def retrain_section():
    """Later layers trained again on kept earlier layers (benchmarks/retrain.py)."""
    retrains = _load("retrain_*.json")
    if not retrains:
        return []
    lines = ["## Layers trained again", "",
             "`benchmarks/retrain.py` keeps what a finished run learned before one "
             "training phase and trains that phase's layer (and any later one) again from "
             "the weights a new run with the same seed starts from, with the settings "
             "named under \"changed\". \"validation\" rows are scored on the last "
             "training images (never used to train that layer or to assign labels), "
             "not on the test set; they choose settings, they are not test figures.", "",
             "| run | from | changed | scored on | vote all / proportion | output layer | "
             "time |", "|---|---|---|---|---|---|---|"]
    return _rerun_table(retrains, lines, _retrain_row)


def _retrain_row(run):
    record = run["retrained"]
    changed = [f"`{k}={v}`" for k, v in record["overrides"].items()]
    changed += [f"`{k}={v}`" for k, v in record["changes"].items() if k != "test_split"]
    scored = (f"test set ({run['test_samples']})" if run["test_split"] == "test"
              else f"validation (last {run['test_samples']} training images)")
    if record.get("kept_phases_saw_validation_images"):
        scored += "; kept layers saw them unlabelled"
    return (f"| {Path(run['run']).name} | {record['from_phase']} | "
            f"{', '.join(changed) or 'nothing'} | {scored} | "
            f"{_accuracy_cells(run['accuracies'])} | {_duration(run['wall_seconds'])} |")


def _per_second(info, key):
    """Samples or presentations per second of one device's throughput figures."""
    return info[key] / info["seconds"]


def throughput_section():
    lines = ["## Training throughput and memory", "",
             "Paper timing (dt 0.5 ms, 350 ms presentation + 150 ms rest), MNIST, the "
             "whole training loop (chunks of 500 presentations, a checkpoint after each). "
             "Each row of one benchmark invocation ran in the same process, one after the "
             "other. Repeated presentations (fewer than 5 spikes) are included in the time. "
             "MSTDP rows: one sample is the model file's iteration count (the paper's "
             "10 x (32 + 32) = 640 time steps unless the command overrides it). "
             "genn rows ran in the GeNN environment (Brian2 2.5.4, brian2genn 1.7.0, GeNN "
             "4.9.0), either in GeNN's single-threaded CPU-only mode (they check that the "
             "GeNN path trains, they are not GPU figures) or on the GPU named in the row; "
             "their time excludes the build during the first chunk (the compile column) "
             "but includes regenerating the project for every later chunk. The GPU rows "
             "ran on machines with 16 cores and the GPU named in the row (Python 3.12.3, "
             "MNIST read from a copy of the data folder, `.gpu/data`). cuda_standalone "
             "rows ran in the brian2cuda environment (Brian2 2.10.1, brian2cuda 1.0b1): "
             "Diehl & Cook and sym-STDP on an H100 with nothing else running, after the "
             "fix to the column-sum race (docs/devices.md); MSTDP on an H200 while GeNN's "
             "GPU tests ran on the same machine, so it may be a little pessimistic. Their "
             "time excludes the compile column. Goal for the GPU devices: 6400 neurons at "
             "50 samples/s or more; not met (sym-STDP 6400 on cuda_standalone: 0.85 "
             "samples/s; genn: 6.9 samples/s, both on an H100).",
             "", "| model | neurons | device | samples | presentations | samples/s | "
             "presentations/s | ms/sample | compile (s) | "
             "peak RSS Python (MB) | peak RSS simulation program (MB) | peak RSS compiler (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes, machines = [], set()
    for result in _load("*_throughput_*.json"):
        for device, info in result["devices"].items():
            if "peak_rss_compiler_mb" not in info:
                continue  # written before child memory was measured per process
            simulation = (f"{info['peak_rss_simulation_mb']:.0f}" if device != "runtime"
                          else "(in the Python process)")
            compiler = f"{info['peak_rss_compiler_mb']:.0f}" if info['peak_rss_compiler_mb'] else "-"
            on_gpu = _gpu_device(device, result["machine"])
            if "CPU-only" in info.get("status", ""):
                device = f"{device} (GeNN CPU-only mode)"
            elif "scalar exp" in info.get("status", ""):
                device = f"{device} (scalar exp, BIOPLASTIC_VECTOR_MATH=0)"
            elif on_gpu != device:
                device = on_gpu
            elif result["machine"]["brian2"].startswith("2.5"):
                device = f"{device} (GeNN environment, Brian2 {result['machine']['brian2']})"
            lines.append(
                f"| {result.get('model', 'diehl-cook')} | {result['neurons']} | {device} | "
                f"{info['samples']} | {info['presentations']} | "
                f"{info['samples_per_second']:.1f} | "
                f"{_per_second(info, 'presentations'):.1f} | {info['ms_per_sample']:.1f} | "
                f"{info['compile_seconds']:.1f} | {info['peak_rss_python_mb']:.0f} | "
                f"{simulation} | {compiler} |")
        devices = result["devices"]
        if "cpp_standalone" in devices and "runtime" in devices:
            per_slot, per_sample = (
                _per_second(devices["cpp_standalone"], key) / _per_second(devices["runtime"], key)
                for key in ("presentations", "samples"))
            name = f"* {result.get('model', 'diehl-cook')}, {result['neurons']} neurons: "
            if devices["cpp_standalone"]["samples"] == devices["runtime"]["samples"]:
                notes.append(name + f"on the same {devices['runtime']['samples']} samples "
                             f"(identical work), cpp_standalone trains {per_sample:.1f}x as "
                             f"fast as the runtime device ({per_slot:.1f}x per presentation).")
            else:
                why = (f" ({per_sample:.1f}x as many samples, but the runtime device's "
                       f"shorter run covers only the first samples, which an untrained "
                       f"network repeats more often)" if per_sample > 1.05 * per_slot else "")
                notes.append(name + f"cpp_standalone simulates {per_slot:.1f}x as many "
                             f"presentations per second as the runtime device{why}.")
        notes.append(f"* `{result['command']}` ({result['date']})")
        machines.add(_machine(result["machine"]))
    return lines + [""] + notes + ["", "Machine: " + "; ".join(sorted(machines)), ""]


def render():
    """The text of docs/benchmarks.md for the result files and NOTES.md as they are now."""
    text = ["# Benchmarks", "",
            "Generated by `python benchmarks/report.py` from `benchmarks/results/*.json`; "
            "each JSON file was written by the benchmark command listed with it.", ""]
    text += (reproduction_section() + accuracy_section() + prototype_section()
             + learned_prototype_section()
             + mstdp_section() + conv_section()
             + sweep_section() + retest_section() + retrain_section())
    text += throughput_section()
    notes = HERE / "NOTES.md"
    if notes.exists():
        text += ["", notes.read_text().strip(), ""]
    return "\n".join(text)


def main():
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
