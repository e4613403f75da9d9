"""Sweep configuration files: read, check and expand into points.

A sweep file (TOML or YAML) names a model, the settings every point shares, the
parameters to vary, the seeds and the test protocol::

    model = "diehl-cook"
    seeds = [1, 2, 3]

    [settings]              # fixed run settings (see RunConfig)
    neurons = 100
    dataset = "mnist"
    device = "cpp_standalone"

    [parameters]            # fixed model-file values
    tau_theta = "1e7*ms"

    [grid]                  # every combination is one configuration
    theta_plus = ["0.05*mV", "0.1*mV"]
    neurons = [100, 400]

    [protocol]              # how each point is trained and tested
    train_samples = 10000
    assign_samples = 10000
    test_samples = 10000

A ``points`` list (``[[points]]`` tables in TOML) gives configurations one by one
instead of (or combined with) a grid. Keys of ``grid`` and ``points`` may be run
settings, protocol fields or model-file parameters; quantities are written as in
the model file (``"2e7*ms"``). Each configuration runs once per seed.

Everything is checked before anything runs: unknown keys, wrong types, unknown
model parameters, wrong units and out-of-range values raise :class:`SweepConfigError`
naming the file and the key.
"""

import difflib
import hashlib
import itertools
import json
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from .modelfile import ModelFileError
from .training import MODELS, RunConfig

__all__ = ["SweepConfigError", "SweepConfig", "SweepPoint", "load_sweep_config",
           "parse_sweep_config"]


class SweepConfigError(ValueError):
    """A sweep file is malformed; the message names the file and the key."""

    def __init__(self, path, key, message):
        where = f"{path}" + (f", {key}" if key else "")
        super().__init__(f"{where}: {message}")
        self.path, self.key = path, key


#: Run settings a sweep may fix or vary (RunConfig fields), with friendlier aliases.
SETTINGS = ("n_neurons", "dataset", "device", "chunk_slots", "model_file", "data_dir",
            "schedule", "vote")
PROTOCOL = ("train_samples", "epochs", "assign_samples", "test_samples", "curve_window",
            "balanced", "test_split")
ALIASES = {"neurons": "n_neurons", "hidden": "n_neurons"}
TOP_LEVEL = ("model", "name", "seeds", "settings", "parameters", "grid", "points",
             "protocol")

_FIELD_TYPES = {f.name: type(f.default) for f in fields(RunConfig)
                if f.default not in (None, MISSING) and not callable(f.default)}
# fields whose default is None (or computed) hold text
_FIELD_TYPES.update({"model_file": str, "data_dir": str, "schedule": str, "device": str})


@dataclass(frozen=True)
class SweepPoint:
    """One training and evaluation run of a sweep.

    Attributes
    ----------
    ident : str
        Folder name: the varied values, the seed and a digest of the whole run.
    values : tuple of (str, object)
        The varied keys and their values for this point (seed excluded), in grid order.
    seed : int
    config : RunConfig
    """

    ident: str
    values: tuple
    seed: int
    config: RunConfig


@dataclass
class SweepConfig:
    """A checked sweep: its source, the varied keys and the expanded points."""

    path: Path
    name: str
    model: str
    varied: tuple
    seeds: tuple
    points: list
    document: dict

    def to_dict(self):
        return {"name": self.name, "model": self.model, "varied": list(self.varied),
                "seeds": list(self.seeds), "source": str(self.path),
                "document": self.document,
                "points": [{"ident": p.ident, "values": dict(p.values), "seed": p.seed}
                           for p in self.points]}


def load_sweep_config(path, overrides=None):
    """Read a ``.toml``, ``.yaml`` or ``.yml`` sweep file and check it.

    Parameters
    ----------
    path : str or Path
    overrides : dict, optional
        Settings that replace the file's for every point (e.g. ``data_dir`` from the
        command line).
    """
    path = Path(path)
    if not path.exists():
        raise SweepConfigError(path, None, "no such sweep file")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python < 3.11
                import tomli as tomllib
            document = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml
            document = yaml.safe_load(text)
        else:
            raise SweepConfigError(path, None, f"unknown format '{suffix}': expected a "
                                   ".toml, .yaml or .yml file")
    except SweepConfigError:
        raise
    except Exception as exc:  # the parsers' own syntax errors carry line numbers
        raise SweepConfigError(path, None, f"cannot parse: {exc}") from None
    return parse_sweep_config(document, path, overrides)


def _check_key(path, section, key, known):
    if key not in known:
        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        where = f"{section}.{key}" if section else key
        raise SweepConfigError(path, where, f"unknown key{hint}; expected one of "
                               f"{', '.join(sorted(known))}")


def _table(path, document, key):
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise SweepConfigError(path, key, f"expected a table of keys, got {value!r}")
    return value


def _setting(path, where, name, value):
    """Check the type of one run setting; returns (RunConfig field, value)."""
    name = ALIASES.get(name, name)
    expected = _FIELD_TYPES[name]
    # bool is a subclass of int in Python; a setting takes one or the other
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        raise SweepConfigError(path, where, f"expected {expected.__name__}, got "
                               f"{type(value).__name__} {value!r}")
    return name, value


def _parameter_text(path, where, value):
    """Model-file values travel as text (``'2e7*ms'``, ``'0.5'``), as with ``--set``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SweepConfigError(path, where, "expected a number or a quantity such as "
                               f"\"2e7*ms\", got {value!r}")
    return str(value)


def _ident(values, seed, config):
    """Readable, file-system-safe folder name with a digest of the whole run."""
    parts = [f"{key}={value}" for key, value in values] + [f"seed={seed}"]
    slug = re.sub(r"[^A-Za-z0-9._=+-]+", "", "_".join(parts).replace("*", ""))[:80]
    # settings a run may resume with (device, data folder, chunk size) stay out of the
    # digest, so that a sweep restarted with another --data-dir finds its points
    run = {k: v for k, v in config.to_dict().items() if k not in RunConfig._RESUMABLE}
    digest = hashlib.sha256(json.dumps(run, sort_keys=True).encode())
    return f"{slug}-{digest.hexdigest()[:8]}"


def parse_sweep_config(document, path="<sweep>", overrides=None):
    """Check a parsed sweep document and expand it into points (see module doc)."""
    path = Path(path)
    if not isinstance(document, dict):
        raise SweepConfigError(path, None, "expected a table (mapping) at the top level")
    for key in document:
        _check_key(path, None, key, TOP_LEVEL)
    model = document.get("model")
    if not isinstance(model, str) or model not in MODELS:
        raise SweepConfigError(path, "model", f"expected one of {', '.join(MODELS)}, "
                               f"got {model!r}")
    seeds = document.get("seeds", [1])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise SweepConfigError(path, "seeds", f"expected a list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepConfigError(path, "seeds", f"repeated seed in {seeds}")

    base = {"model": model}
    for section, known in (("settings", SETTINGS), ("protocol", PROTOCOL)):
        for key, value in _table(path, document, section).items():
            _check_key(path, section, key, set(known) | {a for a, t in ALIASES.items()
                                                         if t in known})
            name, value = _setting(path, f"{section}.{key}", key, value)
            base[name] = value
    base.update(overrides or {})

    module = MODELS[model]()
    try:
        reference = module.load_model(base.get("model_file"))
    except (ModelFileError, FileNotFoundError) as exc:
        raise SweepConfigError(path, "settings.model_file", str(exc)) from None
    parameter_names = set(reference.values)
    clash = parameter_names & (set(SETTINGS) | set(PROTOCOL) | set(ALIASES))
    fixed_parameters = {}
    for key, value in _table(path, document, "parameters").items():
        _check_key(path, "parameters", key, parameter_names)
        fixed_parameters[key] = _parameter_text(path, f"parameters.{key}", value)

    def varied_item(where, key, value):
        if key == "seed":
            raise SweepConfigError(path, where, "seeds are listed in the top-level "
                                   "'seeds' list, not varied here")
        if key in parameter_names and key not in clash:
            return ("parameter", key, _parameter_text(path, where, value))
        known = set(SETTINGS) | set(PROTOCOL) | set(ALIASES) | parameter_names
        _check_key(path, where.rsplit(".", 1)[0], key, known)
        name, value = _setting(path, where, key, value)
        return ("setting", name, value)

    grid = _table(path, document, "grid")
    axes = []
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepConfigError(path, f"grid.{key}", f"expected a non-empty list of "
                                   f"values, got {values!r}")
        axes.append([varied_item(f"grid.{key}", key, v) for v in values])
    explicit = document.get("points", [])
    if not isinstance(explicit, list) or not all(isinstance(p, dict) for p in explicit):
        raise SweepConfigError(path, "points", "expected a list of tables")
    listed = [[varied_item(f"points[{n}].{key}", key, value) for key, value in p.items()]
              for n, p in enumerate(explicit)] or [[]]

    varied = []
    for items in listed + [axis[0:1] for axis in axes]:  # the order of the values
        for _, name, _ in items:
            if name not in varied:
                varied.append(name)
    points, seen, checked = [], set(), {}
    for listed_items in listed:
        for combination in itertools.product(*axes):
            items = list(listed_items) + list(combination)
            settings = dict(base)
            parameters = dict(fixed_parameters)
            for kind, name, value in items:
                (parameters if kind == "parameter" else settings)[name] = value
            values = tuple((name, value) for _, name, value in items)
            for seed in seeds:
                config = _checked_run_config(path, module, settings, parameters, seed,
                                             values, checked)
                point = SweepPoint(_ident(values, seed, config), values, seed, config)
                if point.ident in seen:
                    raise SweepConfigError(path, "points", f"the same run appears twice "
                                           f"({dict(values)}, seed {seed})")
                seen.add(point.ident)
                points.append(point)
    name = document.get("name", path.stem)
    if not isinstance(name, str):
        raise SweepConfigError(path, "name", f"expected text, got {name!r}")
    return SweepConfig(path, name, model, tuple(varied), tuple(seeds), points, document)


def _checked_run_config(path, module, settings, parameters, seed, values, checked):
    """A validated RunConfig for one point; errors name the point's varied values.

    ``checked`` remembers the model-file overrides already loaded in this sweep
    (parsing and checking a model file takes about 0.1 s).
    """
    where = ", ".join(f"{k}={v}" for k, v in values) or "every point"
    config = RunConfig(**settings, seed=seed, overrides=dict(parameters))
    try:
        config.validate()
        key = (config.model, config.model_file, tuple(sorted(parameters.items())))
        if key not in checked:
            checked[key] = module.load_model(config.model_file, parameters)
    except (ModelFileError, ValueError, RuntimeError, FileNotFoundError) as exc:
        raise SweepConfigError(path, f"point ({where})", str(exc)) from None
    return config
