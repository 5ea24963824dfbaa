"""Sequence-parallel (Ulysses) streaming generation with a random-weight DiT, one process per rank.

The logic lives in nbs/30_sequence_parallel.ipynb (exported to causalcine_nb/parallel.py); this file is the entry point:
    torchrun --nproc-per-node 2 scripts/stream_sp.py --preset toy --device cpu          # gloo, 2 CPU processes
    torchrun --nproc-per-node 8 scripts/stream_sp.py --preset wan-14b --device cuda     # nccl, one GPU per rank
It prints the time of every chunk and (--check, the default) makes rank 0 compare its frames with a single-process
rollout. `--help` lists every flag.
"""
from causalcine_nb.parallel import stream_sp_main

if __name__ == "__main__":
    raise SystemExit(stream_sp_main())
