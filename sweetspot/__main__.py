"""``python -m sweetspot`` is the ``sweetspot`` command."""

from .cli import main

raise SystemExit(main())
