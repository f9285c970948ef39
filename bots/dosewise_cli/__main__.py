"""Allow `python -m dosewise_cli`."""

import sys

from dosewise_cli.main import main

sys.exit(main())
