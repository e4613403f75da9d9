"""``python -m bioplastic`` is the ``bioplastic`` command."""

import sys

from .cli import main

sys.exit(main())
