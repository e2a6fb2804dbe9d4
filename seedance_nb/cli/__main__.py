"""``python -m seedance_nb.cli``: the same as the ``seedance-nb`` script."""

from . import main

raise SystemExit(main())
