"""``python -m fsm.cli``: the same as the ``atomic-entry`` command."""

from fsm.cli.main import main

raise SystemExit(main())
