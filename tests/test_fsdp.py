"""Multi-process training on the CPU: 2 processes (gloo) through `accelerate launch`, DDP and FSDP2, against one process.

accelerate 1.x enables FSDP only on accelerator devices (on a CPU launch it sets itself up as MULTI_CPU, i.e. DDP over
gloo), so the FSDP2 runs here pass `--cpu-fsdp`: train() applies torch's `fully_shard` to every WanBlock and the root
itself, as accelerate does on GPUs with scripts/accelerate/fsdp_wan*.yaml. The sharded code path of train() (EMA kept as
shards, full state dicts gathered for the checkpoint, loaded back on resume) is the same in both cases.

What is checked: with the same global batch (2 micro-batches of 1 film), one process with --grad-accum 2, two DDP
processes, and two FSDP2 processes that stop after one step and resume write the same checkpoint (weights, EMA,
optimizer state, RNG) up to float round-off, and the log holds the global-batch loss once per step.
"""
import csv
from pathlib import Path

import pytest
import torch
from fastcore import test as ft

from causalcine_nb.checkpoint import read_checkpoint
from causalcine_nb.training import train_main
from launch2 import accelerate_2proc

COMMON = ["--preset", "toy", "--batch-size", "1", "--num-films", "4", "--save-every", "1", "--log-every", "1",
          "--max-latent-frames", "9", "--warmup-steps", "1", "--p-uncond", "0.5", "--lr", "1e-2"]


def _launch(args: list[str], timeout: int = 240) -> str:
    "Two CPU processes through accelerate launch with the shipped config; returns the output, fails with it."
    return accelerate_2proc("train.py", args, timeout)


def _same_checkpoint(a: Path, b: Path, eps: float = 1e-5) -> None:
    ta, ma = read_checkpoint(a); tb, mb = read_checkpoint(b)
    ft.test_eq(sorted(ta), sorted(tb)); ft.test_eq(ma["step"], mb["step"])
    ft.test_eq(ma.get("optimizer", {}).get("param_groups"), mb.get("optimizer", {}).get("param_groups"))
    for k in ta:
        if k.startswith("rng."): ft.test_eq(ta[k], tb[k])                      # every process drew the same stream
        else: ft.test_close(ta[k].float(), tb[k].float(), eps=eps)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("fsdp")
    common = COMMON + ["--pool-cache", str(d / "cache")]
    torch.set_num_threads(1)
    assert train_main(common + ["--steps", "2", "--grad-accum", "2", "--out", str(d / "single")]) == 0
    return d, common


def test_ddp_two_processes_equal_grad_accum(runs):
    d, common = runs
    out = _launch(common + ["--steps", "2", "--out", str(d / "ddp")])
    ft.test_eq(out.count('"processes": 2'), 1)                                   # one summary, from the main process
    _same_checkpoint(d / "single/checkpoint.safetensors", d / "ddp/checkpoint.safetensors")
    _same_checkpoint(d / "single/model.safetensors", d / "ddp/model.safetensors")
    rows = list(csv.DictReader(open(d / "ddp/log.csv")))
    ft.test_eq([r["step"] for r in rows], ["1", "2"])                            # the main process logs, once per step
    ft.test_eq([r["loss"] for r in rows], [r["loss"] for r in csv.DictReader(open(d / "single/log.csv"))])


def test_fsdp2_two_processes_resume_equal_grad_accum(runs):
    d, common = runs
    _launch(common + ["--steps", "1", "--cpu-fsdp", "--out", str(d / "fsdp")])
    ft.test_eq(read_checkpoint(d / "fsdp/checkpoint.safetensors")[1]["step"], 1)
    out = _launch(common + ["--steps", "2", "--cpu-fsdp", "--resume", "--out", str(d / "fsdp")])
    assert '"resumed_from": 1' in out
    _same_checkpoint(d / "single/checkpoint.safetensors", d / "fsdp/checkpoint.safetensors")
    t, _ = read_checkpoint(d / "fsdp/model.safetensors")
    assert (t["model.head.head.weight"] - read_checkpoint(d / "fsdp/checkpoint.safetensors")[0]["model.head.head.weight"]).abs().max() > 1e-3
    ft.test_eq(len(list(csv.DictReader(open(d / "fsdp/log.csv")))), 2)


def test_cpu_fsdp_needs_a_multiprocess_cpu_launch(tmp_path):
    from causalcine_nb.core import CausalCineError
    from causalcine_nb.training import TrainConfig, train, LatentFilmPool
    pool = LatentFilmPool([torch.randn(16, 3, 8, 8)], [torch.zeros(3, dtype=torch.long)], [["a"]])
    with pytest.raises(CausalCineError, match="cpu-fsdp"):
        train(TrainConfig(out=str(tmp_path), steps=1, cpu_fsdp=True, max_latent_frames=3), pool, progress=False)
