"""Few-step student distillation: causal ODE pairs and regression, causal consistency distillation, DMD (15_dmd).

The logic lives in nbs/14_distill_init.ipynb (exported to causalcine_nb/distill.py) and, for `--stage dmd`, in
nbs/15_dmd.ipynb (causalcine_nb/dmd.py). This file is the entry point for `python scripts/distill.py ...` and
`accelerate launch scripts/distill.py ...`; `--stage S --help` lists the flags of a stage; `--resume` continues a run.

    python scripts/distill.py --stage ode-pairs --preset toy
    python scripts/distill.py --stage ode --preset toy --steps 300
    python scripts/distill.py --stage consistency --preset toy --steps 300
    python scripts/distill.py --stage dmd ...            # causalcine_nb.dmd:dmd_main
    python scripts/distill.py --stage compare --checkpoints runs/distill-ode-toy/model.safetensors
"""
from causalcine_nb.distill import distill_main

if __name__ == "__main__":
    raise SystemExit(distill_main())
