"""Train the CausalCine DiT: stage 0 (bidirectional, single-shot clips) or stage 1 (multi-shot causal teacher forcing).

The logic lives in nbs/08_training.ipynb (exported to causalcine_nb/training.py); this file is the entry point for
`python scripts/train.py ...` and `accelerate launch scripts/train.py ...`. `--help` lists every flag.
"""
from causalcine_nb.training import train_main

if __name__ == "__main__":
    raise SystemExit(train_main())
