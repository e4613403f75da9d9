"""The ``bioplastic`` command line.

Examples
--------
::

    bioplastic train diehl-cook --neurons 400 --train-samples 60000 \\
        --device cpp_standalone --out runs/dc400
    bioplastic train sym-stdp --hidden 400 --schedule layer-by-layer \\
        --dataset fashion-mnist --set scaling_beta=0.05 --set tau_theta=5e7*ms \\
        --set theta_plus=0.05*mV --out runs/sym400
    bioplastic train adaptive-conv --neurons 400 --out runs/conv400
    bioplastic train adaptive-conv --neurons 400 --train-samples 50 --balanced \\
        --epochs 20 --out runs/conv-few50
    bioplastic train mstdp --hidden 2048 --train-samples 10000 --out runs/mstdp
    bioplastic generate --out runs/mstdp --per-label 10
    bioplastic classify --out runs/mstdp runs/mstdp/generated.npz
    bioplastic evaluate --out runs/dc400
    bioplastic plot --out runs/dc400
    bioplastic sweep benchmarks/sweeps/diehl_cook_100_seeds.toml --out sweeps/dc100
    bioplastic check mstdp --device genn
    bioplastic codegen diehl-cook --device genn --neurons 6400 --out projects/dc6400
    bioplastic info
    bioplastic validate my_edited_model.py
"""

import argparse
import json
import logging
import sys

from . import __version__
from .checkpoint import CheckpointError
from .datasets import DATASETS, DatasetError
from .modelfile import ModelFileError
from .devices import DEVICES, default_device
from .training import MODELS, TEST_SPLITS, divergence_note

#: errors caused by what the user asked for (a file, a value, a folder): reported in
#: one line that names it, without a traceback (also used by benchmarks/ scripts)
USER_ERRORS = (ModelFileError, DatasetError, CheckpointError, ValueError, FileNotFoundError,
               FileExistsError, RuntimeError)

MODEL_NAMES = tuple(MODELS)


def _overrides(items):
    overrides = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects NAME=VALUE (e.g. tau_theta=2e7*ms), got '{item}'")
        name, value = item.split("=", 1)
        overrides[name.strip()] = value.strip()
    return overrides


def _add_train(sub):
    p = sub.add_parser("train", help="train a model, then assign labels and test it",
                       description="Train a model (resumes if --out holds a checkpoint).")
    p.add_argument("model", choices=MODEL_NAMES)
    p.add_argument("--neurons", "--hidden", dest="neurons", type=int, default=100,
                   help="excitatory (hidden) layer size")
    p.add_argument("--schedule", default=None,
                   help="sym-stdp: layer-by-layer (default) or simultaneous")
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    p.add_argument("--train-samples", type=int, default=60000,
                   help="training images per epoch (first N of the training set)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--balanced", action="store_true",
                   help="few-shot: train (and assign labels) on --train-samples images "
                        "drawn with --seed, the same number from every class")
    p.add_argument("--assign-samples", type=int, default=10000,
                   help="training images used to assign labels to neurons")
    p.add_argument("--test-samples", type=int, default=10000,
                   help="test images to score (first N of the test set)")
    p.add_argument("--device", default=default_device(), choices=DEVICES)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chunk-slots", type=int, default=500,
                   help="presentations simulated per Brian2 run (checkpoint interval)")
    p.add_argument("--curve-window", type=int, default=10000,
                   help="training samples per point of the accuracy curve")
    p.add_argument("--vote", default="all", choices=["all", "proportion"])
    p.add_argument("--model-file", default=None, help="an edited copy of the model file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model-file parameter, e.g. --set tau_theta=2e7*ms")
    p.add_argument("--data-dir", default=None,
                   help="folder with the IDX files (default: $BIOPLASTIC_DATA or the cache)")
    p.add_argument("--test-split", default="test", choices=TEST_SPLITS,
                   help="what the test phase scores: the test set, or the last "
                        "--test-samples training images (a validation split for choosing "
                        "settings; training and assignment must stop short of it)")
    p.add_argument("--out", required=True, help="run folder (checkpoint and results)")
    p.add_argument("--no-eval", action="store_true", help="stop after training")


def _cmd_train(args):
    from .training import Run, RunConfig
    config = RunConfig(model=args.model, schedule=args.schedule, n_neurons=args.neurons,
                       dataset=args.dataset,
                       train_samples=args.train_samples, epochs=args.epochs,
                       assign_samples=args.assign_samples, test_samples=args.test_samples,
                       device=args.device, seed=args.seed, chunk_slots=args.chunk_slots,
                       curve_window=args.curve_window, vote=args.vote,
                       model_file=args.model_file, overrides=_overrides(args.set),
                       data_dir=args.data_dir, balanced=args.balanced,
                       test_split=args.test_split)
    run = Run(config, args.out, progress=not args.quiet)
    results = run.run(phases=("train",) if args.no_eval else None)
    if results is None:
        print(f"trained; checkpoint in {run.checkpoint_path}")
    else:
        print_results(results)
    return 0


def _add_codegen(sub):
    p = sub.add_parser(
        "codegen", help="generate (and optionally build) a model's device projects",
        description="Write the C++ (cpp_standalone), GeNN (genn) or CUDA "
                    "(cuda_standalone) project of every network a training run of MODEL "
                    "uses into OUT/<network>, without running it, to inspect it or to "
                    "build and run it on another machine.")
    p.add_argument("model", choices=MODEL_NAMES)
    p.add_argument("--device", required=True, choices=[d for d in DEVICES if d != "runtime"])
    p.add_argument("--out", required=True, help="folder for the projects")
    p.add_argument("--neurons", "--hidden", dest="neurons", type=int, default=100)
    p.add_argument("--chunk-slots", type=int, default=500,
                   help="presentations per run compiled into the project")
    p.add_argument("--build", action="store_true", help="also compile the projects")
    _add_model_options(p)


def _add_model_options(p):
    """Options that choose the model variant (``codegen`` and ``check``)."""
    p.add_argument("--schedule", default=None, help="sym-stdp: training schedule")
    p.add_argument("--model-file", default=None, help="an edited copy of the model file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model-file parameter")


def _run_networks(args, device, n_neurons, chunk_slots):
    """``(module, model, modes)``: the network modes a training run of the model uses."""
    from .training import RunConfig, phases_of
    config = RunConfig(model=args.model, schedule=args.schedule, n_neurons=n_neurons,
                       device=device, chunk_slots=chunk_slots, model_file=args.model_file,
                       overrides=_overrides(args.set)).validate()
    module = MODELS[args.model]()
    model = module.load_model(config.model_file, config.overrides)
    return module, model, list(dict.fromkeys(p.mode for p in phases_of(module, config)))


def _cmd_codegen(args):
    from pathlib import Path
    from .simulation import export_projects
    module, model, modes = _run_networks(args, args.device, args.neurons, args.chunk_slots)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with export_projects(out, build=args.build):
        for mode in modes:
            network = module.Network(model, args.neurons, mode, args.device,
                                     chunk_slots=args.chunk_slots)
            directory = network.network.directory
            network.close()
            print(f"{mode:<16} {directory}" + ("  (built)" if args.build else ""))
    return 0


def _cmd_check(args):
    from .compatibility import DeviceCompatibilityError
    from .devices import device_problem
    from .simulation import check_compatibility_only
    # the objects are built on the runtime device; the target need not be installed
    module, model, modes = _run_networks(args, "runtime", 2, 1)
    failed = False
    with check_compatibility_only(args.device):
        for mode in modes:
            try:
                module.Network(model, 2, mode, "runtime", chunk_slots=1).close()
                print(f"{mode:<16} ok on {args.device}")
            except DeviceCompatibilityError as error:
                failed = True
                print(f"{mode:<16} {error}")
    problem = device_problem(args.device)
    if problem:
        print(f"(on this machine: {problem})")
    return 2 if failed else 0


def print_results(results):
    """Print a finished run's accuracies (naming the split scored) and phase times."""
    split = results.get("config", {}).get("test_split", "test")
    scored = ("test" if split == "test" else
              f"validation (last {results['config']['test_samples']} training images)")
    if "accuracy_label" in results:
        print(f"{scored} accuracy of the label neurons: {100 * results['accuracy_label']:.2f}%")
    note = divergence_note(results)
    if note:
        print(note)
    if "accuracy_supervised" in results:
        print(f"{scored} accuracy of the supervised layer: "
              f"{100 * results['accuracy_supervised']:.2f}%")
        print("label statistics of the hidden layer, for comparison:")
    if "accuracy_all" in results:
        print(f"{scored} accuracy: {100 * results['accuracy_all']:.2f}% (all-activity vote), "
              f"{100 * results['accuracy_proportion']:.2f}% (proportion vote)")
    for phase, info in results["phases"].items():
        if info["samples"]:
            print(f"  {phase:>16}: {info['samples']} samples, {info['seconds']:.1f} s, "
                  f"{info['samples_per_second']:.1f} samples/s")


def _cmd_evaluate(args):
    from .training import Run, config_from_checkpoint
    config = config_from_checkpoint(args.out)
    if args.device:
        config.device = args.device
    if args.data_dir:
        config.data_dir = args.data_dir
    results = Run(config, args.out, progress=not args.quiet).run()
    print_results(results)
    if args.json:
        print(json.dumps({k: v for k, v in results.items() if k.startswith("accuracy")}))
    return 0


def _cmd_plot(args):
    from .plotting import plot_run
    for path in plot_run(args.out, args.figures):
        print(path)
    return 0


def _cmd_generate(args):
    from .generation import GENERATED, generate_run
    from .plotting import fixed_points_figure, image_grid
    result = generate_run(args.out, args.per_label, args.device, args.seed,
                          args.fixed_point_samples)
    print(f"generated {len(result['labels'])} digits ({args.per_label} per label) -> "
          f"{args.out}/{GENERATED}")
    print(f"the network's classify mode labels {100 * result['accuracy']:.1f}% of them "
          "with the label they were generated from")
    figures = args.figures or f"{args.out}/figures"
    print(image_grid(result["images"], result["labels"], f"{figures}/generated_digits.png",
                     result["predictions"]))
    if "fixed_points" in result:
        print(fixed_points_figure(result["fixed_points"], result["fixed_point_labels"],
                                  f"{figures}/fixed_points.png"))
    return 0


def _cmd_classify(args):
    from .generation import classify_file
    predictions, accuracy = classify_file(args.out, args.images, args.device, args.seed)
    print("predictions: " + " ".join(str(int(p)) for p in predictions))
    if accuracy is not None:
        print(f"accuracy: {100 * accuracy:.1f}% of {len(predictions)} labelled images")
    return 0


def _cmd_sweep(args):
    from .sweep import point_finished, point_folder, run_sweep
    from .sweep_config import load_sweep_config
    settings = {name: value for name, value in (("data_dir", args.data_dir),
                                                ("device", args.device)) if value}
    sweep = load_sweep_config(args.config, settings)
    out = args.out or f"sweeps/{sweep.name}"
    print(f"sweep {sweep.name}: {len(sweep.points)} points ({sweep.model}; varied: "
          f"{', '.join(sweep.varied) or 'nothing'}; seeds {list(sweep.seeds)}) -> {out}")
    if args.dry_run:
        for point in sweep.points:
            state = "finished" if point_finished(out, point) else "to run"
            print(f"  {state:>8}  {point_folder(out, point)}")
        return 0
    outcome = run_sweep(sweep, out, scheduler=args.scheduler, workers=args.workers,
                        cache_dir=args.cache_dir, retries=args.retries,
                        allowed_failures=args.allowed_failures, dashboard=args.dashboard,
                        progress=not args.quiet)
    print(f"{outcome['ran']} points ran, {outcome['skipped']} were already finished, "
          f"{outcome['failed']} failed")
    from .sweep_results import markdown_table
    print(markdown_table(outcome["summary"], sweep.varied))
    for path in outcome["files"]:
        print(path)
    for row in outcome["rows"]:
        if row["status"] == "failed":
            print(f"failed: {row['point']}: {row['error']}", file=sys.stderr)
    return 1 if outcome["failed"] else 0


def _add_sweep(sub):
    p = sub.add_parser("sweep", help="run a grid of trainings (parameters x seeds) on Dask",
                       description="Run every point of a sweep file (TOML or YAML) as a "
                                   "training run on a Dask cluster; a sweep started again "
                                   "skips finished points and resumes the others.")
    p.add_argument("config", help="sweep file (.toml, .yaml or .yml)")
    p.add_argument("--out", default=None, help="sweep folder (default sweeps/NAME)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
                        "LocalCluster on this machine)")
    p.add_argument("--workers", type=int, default=None,
                   help="LocalCluster worker processes (default: one per core)")
    p.add_argument("--cache-dir", default=None,
                   help="compile cache of the workers: shared on a LocalCluster "
                        "(default $BIOPLASTIC_CACHE), one subfolder per worker with "
                        "--scheduler (default $BIOPLASTIC_CACHE/workers)")
    p.add_argument("--retries", type=int, default=1,
                   help="extra attempts for a point whose training raised an error")
    p.add_argument("--allowed-failures", type=int, default=3,
                   help="worker deaths a point may cause before it counts as failed")
    p.add_argument("--dashboard", default=None, metavar="ADDRESS",
                   help="serve the LocalCluster dashboard here, e.g. :8787 (needs bokeh)")
    p.add_argument("--data-dir", default=None, help="data folder for every point")
    p.add_argument("--device", choices=DEVICES, default=None,
                   help="device for every point (overrides the file's settings.device)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the file and list the points; run nothing")


def _cmd_info(args):
    import platform
    import brian2
    import numpy
    from .modelfile import find_model_file, models_directory
    print(f"bioplastic {__version__}")
    print(f"python {platform.python_version()}, brian2 {brian2.__version__}, "
          f"numpy {numpy.__version__}")
    print("devices:")
    from .devices import DEVICE_LIMITS, device_report
    for name, status in device_report():
        print(f"  {name:<15} {status}")
        print(f"  {'':<15} lacks: {DEVICE_LIMITS[name]}")
    print(f"model files: {models_directory()}")
    if args.model:
        module = MODELS[args.model]()
        model = module.load_model(args.model_file or find_model_file(module.MODEL_FILE))
        print(f"\n{model.path}\n")
        print(model.header.split("\n\n")[0])
        from .modeldoc import parameter_rows
        section = None
        for row in parameter_rows(model):
            if row.section != section:
                section = row.section
                print(f"\n{section or 'parameters'}:")
            print(f"  {row.name:<20} {row.value:<16} {row.comment}")
    else:
        for name, load in MODELS.items():
            print(f"  {name}: {load().MODEL_FILE}   (bioplastic info --model {name})")
    return 0


def guess_model(path):
    """The model whose fields best match a model file's (for ``validate``)."""
    from .modelfile import parse_model_file
    names = set(parse_model_file(path).values)
    scores = {}
    for name, load in MODELS.items():
        fields = set(load().SPEC.fields)
        scores[name] = len(fields & names) - len(names - fields)
    return max(scores, key=scores.get)


def _cmd_validate(args):
    name = args.model or guess_model(args.file)
    model = MODELS[name]().load_model(args.file)
    print(f"{model.path}: valid {model.spec.model_name} model file "
          f"({len(model.parameters)} parameters)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="bioplastic", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"bioplastic {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_sweep(sub)
    _add_codegen(sub)
    p = sub.add_parser("check", help="check a model against a device's limits",
                       description="Build every network a run of MODEL uses and check it "
                                   "against DEVICE's limits (brian2genn's restrictions), "
                                   "without generating code; DEVICE need not be installed. "
                                   "Exit status 2 if a network uses a feature the device "
                                   "lacks; each one is named.")
    p.add_argument("model", choices=MODEL_NAMES)
    p.add_argument("--device", required=True, choices=DEVICES)
    _add_model_options(p)
    p = sub.add_parser("evaluate", help="assign labels and test a trained run")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--json", action="store_true", help="also print accuracies as JSON")
    p = sub.add_parser("plot", help="write the figures of a run as PNG")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--figures", default=None, help="figure folder (default OUT/figures)")
    p = sub.add_parser("generate", help="mstdp: generate digits from labels and classify them")
    p.add_argument("--out", required=True, help="run folder of a trained mstdp network")
    p.add_argument("--per-label", type=int, default=10, help="digits generated per class")
    p.add_argument("--fixed-point-samples", type=int, default=6,
                   help="training samples whose fixed points are recorded (paper Fig. 1)")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--figures", default=None, help="figure folder (default OUT/figures)")
    p = sub.add_parser("classify", help="mstdp: classify images (.npy or .npz)")
    p.add_argument("images", help=".npy array (n, 784) or (n, 28, 28), or .npz with "
                                  "'images' (and optionally 'labels')")
    p.add_argument("--out", required=True, help="run folder of a trained mstdp network")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("info", help="versions, devices and models")
    p.add_argument("--model", choices=MODEL_NAMES, default=None,
                   help="print this model's parameters")
    p.add_argument("--model-file", default=None)
    p = sub.add_parser("validate", help="check an (edited) model file")
    p.add_argument("file")
    p.add_argument("--model", choices=MODEL_NAMES, default=None,
                   help="model the file is for (default: guessed from its fields)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    handlers = {"train": _cmd_train, "evaluate": _cmd_evaluate, "plot": _cmd_plot,
                "info": _cmd_info, "validate": _cmd_validate, "generate": _cmd_generate,
                "classify": _cmd_classify, "sweep": _cmd_sweep,
                "codegen": _cmd_codegen, "check": _cmd_check}
    try:
        return handlers[args.command](args)
    except USER_ERRORS as exc:
        print(f"bioplastic {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume from the last checkpoint",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
