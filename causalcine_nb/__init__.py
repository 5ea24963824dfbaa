"""Notebook-first reproduction of CausalCine: real-time autoregressive multi-shot video generation with content-aware memory routing

Modules:

- `causalcine_nb.realtime`: The streaming step made fast on a GPU without changing what it computes: the attention kernel is chosen at run time, the per-block arithmetic is compiled, and CUDA graphs replay it. Every fast path is checked against the eager one."""

__version__ = "0.1.0"
