"""Benchmark one teacher-forcing training step of a DiT preset on the GPU: FlexAttention BlockMask vs dense mask.

    python scripts/bench_tf_step.py --preset wan-1.3b --height 480 --width 832 --latent-frames 21 --json out.json

Random weights (speed does not depend on them). Prints step time, peak memory and the dense/block-sparse ratio.
"""
import argparse, json, time

import torch

from causalcine_nb.core import resolve_device
from causalcine_nb.model import CausalWanDiT, DiTConfig
from causalcine_nb.masks import teacher_forcing_mask, teacher_forcing_block_mask, teacher_forcing_block_stats
from causalcine_nb.training import teacher_forcing_loss


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="wan-1.3b"); p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=832); p.add_argument("--latent-frames", type=int, default=21)
    p.add_argument("--chunk-frames", type=int, default=3); p.add_argument("--window-chunks", type=int, default=-1)
    p.add_argument("--text-len", type=int, default=512); p.add_argument("--shots", type=int, default=3)
    p.add_argument("--steps", type=int, default=3); p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--modes", default="flex,dense"); p.add_argument("--no-grad-ckpt", action="store_true")
    p.add_argument("--device", default="cuda"); p.add_argument("--json", default="")
    a = p.parse_args(argv)
    dev = resolve_device(a.device)
    cfg = DiTConfig.preset(a.preset, gradient_checkpointing=not a.no_grad_ckpt)
    model = CausalWanDiT.from_config(cfg, seed=0, device=dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=dev.type == "cuda")
    F_, f = a.latent_frames, a.chunk_frames
    h, w = a.height // 8, a.width // 8
    tpf = (h // cfg.patch_size[1]) * (w // cfg.patch_size[2])
    K, W = F_ // f, (None if a.window_chunks < 0 else a.window_chunks)
    x0 = torch.randn(1, cfg.in_dim, F_, h, w, device=dev); noise = torch.randn_like(x0)
    sigma = torch.tensor([0.6], device=dev)
    ctx = torch.randn(1, a.shots, a.text_len, cfg.text_dim, device=dev)
    fp = (torch.arange(F_, device=dev) * a.shots // F_)
    stats = teacher_forcing_block_stats(K, f, tpf, window_chunks=W)
    res = {"preset": a.preset, "params": model.parameter_count(), "latent_frames": F_, "tokens_packed": 2 * F_ * tpf,
           "chunk_frames": f, "window_chunks": W, "block_density": stats["density"],
           "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu", "modes": {}}
    print(json.dumps({k: v for k, v in res.items() if k != "modes"}), flush=True)
    for mode in a.modes.split(","):
        t0 = time.perf_counter()
        mask = (teacher_forcing_block_mask(K, f, tpf, window_chunks=W, device=dev) if mode == "flex"
                else teacher_forcing_mask(K, f, tpf, window_chunks=W, device=dev))
        if dev.type == "cuda": torch.cuda.synchronize()
        build = time.perf_counter() - t0
        times = []
        if dev.type == "cuda": torch.cuda.reset_peak_memory_stats()
        for i in range(a.warmup + a.steps):
            if dev.type == "cuda": torch.cuda.synchronize()
            t0 = time.perf_counter()
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                loss = teacher_forcing_loss(model, x0, noise, sigma, ctx, fp, f, attn_mask=mask)
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
            if dev.type == "cuda": torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            print(f"{mode} step {i}: {times[-1]:.3f} s loss {loss.item():.4f}", flush=True)
        m = times[a.warmup:]
        res["modes"][mode] = {"mask_build_s": build, "step_s_mean": sum(m) / len(m), "step_s_min": min(m),
                              "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else None}
        del mask
        if dev.type == "cuda": torch.cuda.empty_cache()
        print(json.dumps({mode: res["modes"][mode]}), flush=True)
    if {"flex", "dense"} <= set(res["modes"]):
        res["dense_over_flex_step_time"] = res["modes"]["dense"]["step_s_mean"] / res["modes"]["flex"]["step_s_mean"]
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as fh: json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
