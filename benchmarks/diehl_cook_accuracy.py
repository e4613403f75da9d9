"""Diehl & Cook 2015 accuracy benchmark (``accuracy.py --model diehl-cook``).

Usage::

    python benchmarks/diehl_cook_accuracy.py --neurons 400 --dataset mnist
    python benchmarks/diehl_cook_accuracy.py --neurons 100 --dataset mnist
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import main  # noqa: E402

if __name__ == "__main__":
    main(script="diehl_cook_accuracy.py", model="diehl-cook")
