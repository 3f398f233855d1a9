import sys

from ddlib.studies import _main

raise SystemExit(_main(sys.argv[1:]))
