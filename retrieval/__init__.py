"""Knowledge-base retrieval: ingestion, encoders, FAISS + BM25 hybrid index, search API and CLI.

OpenMP's default busy-wait policy made concurrent e5 queries take more than a second on a 2-core
machine, so the wait policy is set here, before any submodule imports numpy, faiss or torch.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
