import sys

from talkbench.cli import main

sys.exit(main())
