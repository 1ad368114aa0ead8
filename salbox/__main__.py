"""``python -m salbox ...`` runs the ``salbox`` command (salbox/cli)."""
import sys

from salbox.cli import main

if __name__ == '__main__':
    sys.exit(main())
