"""``python -m flb_fast`` and the ``flb-fast`` command.

The cyclic garbage collector is off while the agent starts: importing its modules and building
its pipeline allocate some hundred thousand objects that live as long as the process, and with
CPython's default thresholds the collector scans them over and over (about 50 young and 5 middle
collections, some 2% of the start-up's CPU, bench/README.md). ``flb_fast.runner.run`` collects
once, freezes what start-up left and turns the collector back on before the first record is read.
"""

import gc
import sys


def main() -> int:
    gc.disable()
    from flb_fast.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
