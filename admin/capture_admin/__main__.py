import sys

from capture_admin.cli import main

sys.exit(main())
