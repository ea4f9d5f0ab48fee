"""`python -m pipeline.tools ...` runs the `tfrecord` tool."""
import sys

from pipeline.tools.tfrecord import main

sys.exit(main())
