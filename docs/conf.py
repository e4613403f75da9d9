"""Sphinx configuration of the bioplastic documentation.

Build (the tests run exactly this, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages generated at build time (never edited by hand) go to ``docs/_generated``:
one page per model file, the reproduction table (from benchmarks/results/*.json)
and the catalogue of model-file errors (from tests/invalid/).
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import bioplastic  # noqa: E402

project = "bioplastic"
author = "the bioplastic developers"
copyright = "2026, the bioplastic developers"
release = bioplastic.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",      # numpy-style docstrings
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinxarg.ext",            # the command-line reference, from bioplastic.cli's parser
    "sphinx_gallery.gen_gallery",
    "bioplastic_docs",          # model pages, reproduction table, error catalogue
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "_generated/model-file-errors.md", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
myst_heading_anchors = 3
smartquotes = False           # keep "--set" and quotes in commands as typed
myst_enable_extensions = ["dollarmath"]
suppress_warnings = ["myst.header"]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# The examples are rendered, not executed here: each needs MNIST and minutes of
# training. tests/test_examples.py runs every one at a tiny size instead.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "plot_gallery": "False",
    "download_all_examples": False,
    "filename_pattern": r"$^",
    "remove_config_comments": True,
}

html_theme = "sphinx_rtd_theme"
html_title = f"bioplastic {release}"
html_static_path = []
