"""python -m scripts.cluster: start the cluster (`make run-cluster` runs this after setup and training)."""

from scripts.cluster.launch import main

try:
    raise SystemExit(main())
except KeyboardInterrupt:  # Ctrl-C during the checks, before anything started
    raise SystemExit(130) from None
