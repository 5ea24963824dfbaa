"""Sequence parallelism end to end on 2 CPU processes (gloo): the torchrun entry point, and gradient checkpointing.

The notebook nbs/30_sequence_parallel.ipynb checks teacher forcing (dense mask, CAMR) and streaming equivalence; these
tests cover what it does not: `scripts/stream_sp.py` under `torchrun`, and (slow) `sp_forward` with activation
checkpointing (the blocks, and so the all-to-alls, are recomputed in backward).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from causalcine_nb.core import make_generator
from causalcine_nb.flow import velocity_target
from causalcine_nb.model import CausalWanDiT, DiTConfig
from causalcine_nb.parallel import model_spec, run_sp_job
from causalcine_nb.training import teacher_forcing_forward

ROOT = Path(__file__).resolve().parents[1]


def test_torchrun_stream_sp_frames_match_single_process():
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", str(ROOT / "scripts/stream_sp.py"),
           "--preset", "toy", "--device", "cpu", "--chunks", "3", "--steps", "2"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 rank(s) on cpu (gloo)" in run.stdout and "frames match" in run.stdout
    assert run.stdout.count("chunk ") >= 3


@pytest.mark.slow   # first use of torch.utils.checkpoint costs seconds per process on the shared CPU
def test_gradient_checkpointing_two_processes_match_single_process():
    cfg = DiTConfig.preset("toy", num_layers=2, gradient_checkpointing=True)
    model = CausalWanDiT.from_config(cfg, seed=0, zero_head=False)
    g = make_generator(5)
    x0, noise = torch.randn(1, 16, 4, 4, 6, generator=g), torch.randn(1, 16, 4, 4, 6, generator=g)
    ctx, sigma = torch.randn(1, 7, cfg.text_dim, generator=g), torch.tensor([0.4])
    inputs = dict(x0=x0, noise=noise, sigma=sigma, context=ctx, frame_prompt=torch.zeros(4, dtype=torch.long)[None],
                  chunk_frames=2)
    job = {"kind": "tf", "inputs": {**inputs, "context": ctx[:, None]}, "memory": None}
    res = [rank[0] for rank in run_sp_job({**model_spec(model), "jobs": [job]})]
    model.train()
    v = teacher_forcing_forward(model, x0, noise, sigma, ctx[:, None], inputs["frame_prompt"], 2)
    F.mse_loss(v.float(), velocity_target(x0, noise)).backward()
    for r in res:
        torch.testing.assert_close(r["v"], v.detach(), rtol=1e-5, atol=1e-6)
        for n, p in model.named_parameters():
            torch.testing.assert_close(r["grads"][n], p.grad, rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(r["grads_gathered"][n], p.grad, rtol=1e-4, atol=1e-6)
