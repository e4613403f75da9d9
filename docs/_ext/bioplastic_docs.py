"""Sphinx extension: pages generated from the project's own files at build time.

* ``_generated/models/<file>.md``: one page per model file (header, parameter
  table, equations in LaTeX), by :func:`bioplastic.modeldoc.model_page`.
* ``_generated/reproduction.md``: the reproduction table, from the benchmark result
  files (``benchmarks/report.py``), so no figure is typed by hand.
* ``_generated/model-file-errors.md``: every known-bad model file of
  ``tests/invalid/`` with the error bioplastic actually raises for it.
"""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: model name -> page title
TITLES = {"diehl-cook": "Diehl & Cook (2015)",
          "sym-stdp": "sym-STDP supervised network",
          "adaptive-conv": "Adaptive convolutional STDP",
          "mstdp": "MSTDP energy network"}


def _write(path, text):
    """Write only when the content changes (Sphinx then rebuilds only what changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def model_pages(out):
    from bioplastic.modeldoc import model_page
    from bioplastic.training import MODELS
    for name, load in MODELS.items():
        module = load()
        model = module.load_model()
        stem = Path(module.MODEL_FILE).stem
        title = f"Model file: {TITLES.get(name, name)}"
        _write(out / "models" / f"{stem}.md",
               model_page(model, title, f"models/{module.MODEL_FILE}") + "\n")


def reproduction_page(out):
    spec = importlib.util.spec_from_file_location("bioplastic_report",
                                                  ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    lines = report.reproduction_section()
    lines[0] = "# Reproduction table"
    lines += ["Generated from `benchmarks/results/*.json` when these pages are built "
              "(`benchmarks/report.py`); the detailed tables are in {doc}`/benchmarks`.", ""]
    _write(out / "reproduction.md", "\n".join(lines))


def error_catalogue(out):
    from bioplastic.modelfile import ModelFileError
    from bioplastic.training import MODELS
    lines = ["| file | what is wrong | the error bioplastic raises |", "|---|---|---|"]
    for path in sorted((ROOT / "tests" / "invalid").glob("*.py")):
        text = path.read_text()
        model = re.search(r"# expect: (?:model=(\S+); )?", text).group(1) or "diehl-cook"
        problem = re.search(r'"""(.*?)"""', text, re.S).group(1).strip()
        relative = path.relative_to(ROOT).as_posix()
        try:
            MODELS[model]().load_model(path)
        except ModelFileError as error:
            message = str(error).replace(str(path), relative)
        else:
            raise RuntimeError(f"{relative} is expected to be rejected but loaded")
        cell = message.replace("|", r"\|").replace("\n", " ")
        lines.append(f"| `{relative}` ({model}) | {problem} | `{cell}` |")
    _write(out / "model-file-errors.md", "\n".join(lines) + "\n")


def generate(app):
    out = Path(app.srcdir) / "_generated"
    model_pages(out)
    reproduction_page(out)
    error_catalogue(out)


def setup(app):
    app.connect("builder-inited", generate)
    return {"version": "1.0", "parallel_read_safe": True}
