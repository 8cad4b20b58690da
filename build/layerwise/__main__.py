"""`python -m layerwise`: the same command line as the `layerwise` script."""

import sys

from .tools.cli import main

sys.exit(main())
