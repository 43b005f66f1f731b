"""``python -m flb_fast``: the same as the ``flb-fast`` command."""

from flb_fast.cli import main

raise SystemExit(main())
