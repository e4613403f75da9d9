"""bioplastic: biologically plausible spike-timing-based learning models for Brian2.

Each model is a Brian2 equation file under ``models/`` (parsed and validated, never
executed) plus a small module here that wires the groups together. Training runs as
one Brian2 run per chunk of samples on the ``runtime`` or ``cpp_standalone`` device,
with atomic checkpoints and resume.
"""

__version__ = "0.1.0"
