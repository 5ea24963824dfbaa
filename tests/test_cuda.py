"""GPU-only checks (marked `cuda`: skipped on machines without CUDA, run on the lent H100/H200).

They exercise what the CPU cannot: FlexAttention backward, bf16 autocast, and a training step on the GPU.
Run there with `python -m pytest -m cuda tests/test_cuda.py` (needs only torch, numpy, safetensors, tqdm, accelerate).
"""
import pytest
import torch

from causalcine_nb.model import CausalWanDiT
from causalcine_nb.masks import teacher_forcing_mask, teacher_forcing_block_mask
from causalcine_nb.training import teacher_forcing_forward, teacher_forcing_loss

pytestmark = pytest.mark.cuda


def _inputs(B=2, K=4, f=3, h=8, w=8, seed=0, device="cuda"):
    g = torch.Generator(device=device).manual_seed(seed)
    x0 = torch.randn(B, 16, K * f, h, w, generator=g, device=device)
    noise = torch.randn(B, 16, K * f, h, w, generator=g, device=device)
    ctx = torch.randn(B, 2, 16, 64, generator=g, device=device)
    fp = torch.tensor([0] * (K * f // 2) + [1] * (K * f - K * f // 2), device=device)
    return x0, noise, torch.tensor([0.3, 0.7], device=device)[:B], ctx, fp


@pytest.mark.parametrize("window", [None, 1])
def test_flex_block_mask_forward_and_backward_match_dense(window):
    torch.manual_seed(0)
    model = CausalWanDiT.from_config("toy", seed=0, zero_head=False, device="cuda")
    x0, noise, sigma, ctx, fp = _inputs()
    K, f, tpf = 4, 3, 16
    dense = teacher_forcing_mask(K, f, tpf, window_chunks=window, device="cuda")
    block = teacher_forcing_block_mask(K, f, tpf, window_chunks=window, device="cuda", block_size=128)
    grads = []
    for mask in (dense, block):
        model.zero_grad()
        loss = teacher_forcing_loss(model, x0, noise, sigma, ctx, fp, f, attn_mask=mask)
        loss.backward()
        grads.append((loss.detach(), [p.grad.detach().clone() for p in model.parameters()]))
    (l1, g1), (l2, g2) = grads
    torch.testing.assert_close(l1, l2, rtol=2e-3, atol=2e-4)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=2e-2, atol=2e-4)


def test_bf16_autocast_close_to_fp32():
    model = CausalWanDiT.from_config("toy", seed=0, zero_head=False, device="cuda").eval()
    x0, noise, sigma, ctx, fp = _inputs()
    with torch.no_grad():
        ref = teacher_forcing_forward(model, x0, noise, sigma, ctx, fp, 3)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            low = teacher_forcing_forward(model, x0, noise, sigma, ctx, fp, 3)
    rel = (low.float() - ref).norm() / ref.norm()
    assert rel < 3e-2, rel


def test_training_steps_on_gpu_bf16(tmp_path):
    from causalcine_nb.training import TrainConfig, LatentFilmPool, train
    from causalcine_nb.text import ShotWorldTextEncoder
    g = torch.Generator().manual_seed(0)
    pool = LatentFilmPool([torch.randn(16, 9, 8, 8, generator=g) for _ in range(4)],
                          [torch.tensor([0] * 3 + [1] * 6)] * 4, [["wide shot of the red circle in the desert", "close-up of the blue star in the forest"]] * 4,
                          chunk_frames=3)
    res = train(TrainConfig(out=str(tmp_path / "run"), steps=4, batch_size=2, save_every=4, max_latent_frames=9,
                            mixed_precision="bf16"), pool, ShotWorldTextEncoder(), progress=False)
    assert res["final_loss"] == res["final_loss"] and res["final_loss"] < 10


def _stream_bf16(model, chunks=7, size=8):
    from causalcine_nb.rollout import StreamingGenerator
    gen = StreamingGenerator(model, "paper", 3, steps=2, record_routing=False)
    g = torch.Generator().manual_seed(0)
    ctx = torch.randn(1, 8, model.config.text_dim, generator=g).cuda().bfloat16()
    noise = torch.randn(1, model.config.in_dim, 3 * chunks, size, size, generator=g).cuda().bfloat16()
    with torch.no_grad(): return gen.rollout(noise, ctx).float()


def test_realtime_backends_and_cuda_graphs_match_eager_bf16():
    """Every attention backend usable here, `auto`, and compiled stages with CUDA graphs stream the eager film (bf16)."""
    from causalcine_nb.realtime import (available_backends, set_attention_backend, choose_attention_backend,
                                        compile_streaming, uncompile_streaming)
    model = CausalWanDiT.from_config("toy", seed=0, zero_head=False, device="cuda").to(torch.bfloat16).eval()
    ref = _stream_bf16(model, chunks=9)
    usable = [n for n, why in available_backends("cuda", torch.bfloat16, model.config.head_dim).items() if why is None]
    assert {"sdpa", "sdpa-math", "flex"} <= set(usable)
    for name in usable:
        set_attention_backend(model, name)
        assert (_stream_bf16(model, chunks=9) - ref).abs().max() < 5e-2, name
    name, table = choose_attention_backend((1, model.config.num_heads, 96, model.config.head_dim), 17 * 32, "cuda", torch.bfloat16)
    assert name in usable and "ms" in table[name]
    set_attention_backend(model, name)
    for mode in ("default", "reduce-overhead"):
        compile_streaming(model, mode)
        assert (_stream_bf16(model, chunks=9) - ref).abs().max() < 5e-2, mode
        assert (_stream_bf16(model, chunks=9) - ref).abs().max() < 5e-2, mode + " (second film: replayed graphs)"
    uncompile_streaming(model)
