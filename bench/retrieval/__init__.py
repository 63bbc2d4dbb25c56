"""Retrieval benchmark: converters for public data sets, the bm25/dense/hybrid comparison, scale run."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
