import sys

from ddlib.profiles import _main

raise SystemExit(_main(sys.argv[1:]))
