"""`python -m alignsmith.train.cli ...` runs the `alignsmith` command."""
import sys

from .main import main

sys.exit(main())
