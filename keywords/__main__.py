"""Entry point for ``python -m keywords``."""

from __future__ import annotations

import sys

from keywords.cli import main

sys.exit(main())
