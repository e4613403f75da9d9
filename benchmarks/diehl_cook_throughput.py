"""Training throughput and peak memory (``throughput.py``; kept under this name
because the recorded commands in benchmarks/results use it).

Usage::

    python benchmarks/diehl_cook_throughput.py --neurons 400
    python benchmarks/diehl_cook_throughput.py --model sym-stdp --neurons 1600 \\
        --devices cpp_standalone --standalone-samples 500
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import main  # noqa: E402

if __name__ == "__main__":
    main(script="diehl_cook_throughput.py")
