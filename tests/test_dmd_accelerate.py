"""DMD distillation through `accelerate launch` on the CPU: 2 processes (DDP over gloo) against one process.

The trainer (nbs/15_dmd.ipynb, causalcine_nb/dmd.py) draws every random quantity of an update from generators keyed by
(seed, round, update, global sample index), and the exit steps by (seed, round, update): 2 processes with one film
each draw exactly the films, noise, noise levels and exit steps that 1 process with a batch of 2 draws. The runs
differ only in how the gradients of the batch are formed: one backward over both films, or one per process with DDP
averaging the two (the student's gradients, from its rollout and from the ODE regression on a tiny pair folder,
through the `StudentRollout` wrapper; the fake score's and the GAN head's through `FakeCritic`). So equal weights check the gradient averaging itself. A one-process run with process 0's film
alone is the control: it differs from both by far more than the tolerance, as does a 2-process run whose rollout
bypasses the DDP wrapper (measured when this test was written; not rerun here).

What is checked, with a random toy teacher, 2-chunk films and the regression loss on (about 70 s on a 2-core CPU):
1. one DMD round (1 critic + 1 generator update, GAN head on) on 2 processes x 1 film == 1 process x 2 films:
   weights, EMA and optimizer states within 1e-5; the log's values agree; the processes hold the same weights;
   the checkpoint has the keys of a one-process run and `load_model` reads the student;
2. a 2-process run stopped after round 1 and resumed writes the same checkpoint as an uninterrupted 2-process run,
   bit for bit (weights, optimizer states, step, RNG), and the same log.
"""
import csv, json, shutil
from pathlib import Path

import pytest
import torch
from fastcore import test as ft

from causalcine_nb.checkpoint import read_checkpoint
from causalcine_nb.dmd import dmd_main
from causalcine_nb.distill import DistillConfig, make_ode_pairs
from causalcine_nb.training import load_model
from launch2 import accelerate_2proc

COMMON = ["--stage", "dmd", "--teacher", "random", "--preset", "toy", "--num-films", "4", "--num-chunks", "2",
          "--critic-steps", "1", "--save-every", "1", "--log-every", "1"]


def _launch(args: list[str], timeout: int = 240) -> dict:
    "Two CPU processes through accelerate launch with the shipped config; returns the JSON summary, fails with the output."
    out = accelerate_2proc("distill.py", args, timeout)
    ft.test_eq(out.count('"processes"'), 1)                               # one summary, from the main process
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


def _max_diff(a: dict, b: dict, prefix: str) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a if k.startswith(prefix))


def _log(run: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(open(run / "log.csv"))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "One round: 1 process x 2 films, 1 process x process 0's film (control), 2 processes x 1 film."
    d = tmp_path_factory.mktemp("dmd")
    torch.set_num_threads(1)
    # ODE pairs of 4 films (the shipped teacher, an 8-step grid): every generator update also regresses on 1 of them per film
    make_ode_pairs(DistillConfig(stage="ode-pairs", pairs=str(d / "pairs"), num_films=4, max_latent_frames=6, teacher_steps=8,
                                 films_per_shard=4, pool_cache=str(d / "cache")), device="cpu", progress=False)
    extra = ["--pool-cache", str(d / "cache"), "--regression-pairs", str(d / "pairs"), "--regression-weight", "0.5"]
    common = COMMON[2:] + extra                                                 # dmd_main takes no --stage
    assert dmd_main(common + ["--steps", "1", "--batch-size", "2", "--out", str(d / "single")]) == 0
    assert dmd_main(common + ["--steps", "1", "--batch-size", "1", "--out", str(d / "alone")]) == 0
    summary = _launch(COMMON + extra + ["--steps", "1", "--batch-size", "1", "--out", str(d / "ddp")])
    return d, summary, extra


def test_two_processes_equal_one_process_with_the_global_batch(runs):
    d, summary, _ = runs
    ft.test_eq((summary["processes"], summary["global_batch"], summary["replica_gap"]), (2, 2, 0.0))
    (single, ms), (ddp, md), (alone, _) = (read_checkpoint(d / n / "checkpoint.safetensors") for n in ("single", "ddp", "alone"))
    ft.test_eq(sorted(single), sorted(ddp))                                     # unwrapped keys, as one process writes them
    ft.test_eq((ms["step"], md["step"]), (1, 1))
    ft.test_eq(ms["optimizer"]["param_groups"], md["optimizer"]["param_groups"])
    diffs = {p: _max_diff(single, ddp, p) for p in ("model.generator.", "model.generator_ema.", "model.fake_score.",
                                                    "model.gan_head.", "optim.")}
    print("max |single(2 films) - 2 processes(1 film each)|:", {k: f"{v:.1e}" for k, v in diffs.items()})
    assert max(diffs.values()) < 1e-5, diffs
    # the control: process 0's film alone moves every trained network far more than that
    control = {p: _max_diff(alone, ddp, p) for p in ("model.generator.", "model.fake_score.", "model.gan_head.")}
    print("max |process 0's film alone - 2 processes|:", {k: f"{v:.1e}" for k, v in control.items()})
    assert min(control.values()) > 2e-5, control
    la, lb = _log(d / "single"), _log(d / "ddp")
    ft.test_eq(all(r["regression"] for r in la + lb), True)                     # the regression loss was on and logged
    ft.test_eq([r["step"] for r in lb], ["1"])                                  # the main process logs, once per round
    for ra, rb in zip(la, lb):
        for k in ra:
            if ra[k]: ft.test_close(float(ra[k]), float(rb[k]), eps=1e-5)
    st = load_model(d / "ddp" / "model.safetensors")                            # a one-process loader reads the student
    ema = {k[len("model.generator_ema."):]: v for k, v in ddp.items() if k.startswith("model.generator_ema.")}
    ft.test_eq(all(torch.equal(v, ema[k]) for k, v in st.state_dict().items()), True)
    ft.test_eq(read_checkpoint(d / "ddp" / "model.safetensors")[1]["extra"]["global_batch"], 2)


def test_two_processes_resume_equal_uninterrupted(runs):
    d, _, extra = runs
    common = COMMON + extra + ["--batch-size", "1"]
    full = _launch(common + ["--steps", "2", "--out", str(d / "full")])
    shutil.copytree(d / "ddp", d / "resumed")                                   # the 2-process run stopped after round 1
    res = _launch(common + ["--steps", "2", "--resume", "--out", str(d / "resumed")])
    ft.test_eq((full["resumed_from"], res["resumed_from"], res["replica_gap"]), (0, 1, 0.0))
    for name in ("checkpoint.safetensors", "model.safetensors"):
        (ta, ma), (tb, mb) = read_checkpoint(d / "full" / name), read_checkpoint(d / "resumed" / name)
        ft.test_eq(sorted(ta), sorted(tb)); ft.test_eq(ma["step"], 2); ft.test_eq(mb["step"], 2)
        ft.test_eq(ma.get("optimizer"), mb.get("optimizer"))
        ft.test_eq([k for k in ta if not torch.equal(ta[k], tb[k])], [])      # bit for bit, RNG included
    ft.test_eq(_log(d / "resumed"), _log(d / "full"))
    ft.test_eq([r["step"] for r in _log(d / "full")], ["1", "2"])
