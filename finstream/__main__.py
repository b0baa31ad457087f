import sys

from finstream.cli import main

sys.exit(main())
