"""``python -m seedance_nb.emulator``: run the offline emulator until Ctrl-C."""

from . import main

raise SystemExit(main())
