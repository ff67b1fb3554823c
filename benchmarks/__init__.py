"""The benchmarks: see benchmarks/README.md (``benchmarks/run`` runs them all)."""
