"""`python -m edge` runs the hinge-edge command line."""

from edge.cli import main

raise SystemExit(main())
