"""Every GPU measurement the open issues ask for, as one prepared run sized to a lent device's few minutes.

On the lent H100/H200. First, here, `bash scripts/device_prepare.sh`: nothing can be downloaded there, so diffusers (for
the Wan VAE steps) travels as wheels carried as `.whl`, and the shipped models, which no step needs, are kept from
travelling (the tool refuses a tree over 64 MiB; `bash scripts/device_prepare.sh restore` afterwards). Then, there:

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl; export PYTHONPATH=/tmp/site
    python3 scripts/device_checks.py --out $OUT

On a CPU, the same steps at toy size (what `tests/test_device_checks.py` runs, so the harness cannot rot):

    python scripts/device_checks.py --plan smoke --out runs/device_smoke

Each step is a subprocess with its own time limit, inside one overall budget (`--budget-s`). A step that cannot get its
minimum time is not started, so whatever finished still comes back; `summary.md` ends with the `--steps` that rerun what
was left. Under `--out`: `summary.md` (the tables BENCHMARKS.md's GPU rows need, with the issue's goals beside them),
`summary.json`, and every step's JSON and log (packed into one `results.tar.gz` with `--tar`, the default of the
`gpu` plan, since the device tool brings back at most 8 files). Random weights throughout: speed does not depend on them.
"""
from __future__ import annotations

import argparse, importlib.util, json, os, platform, shlex, signal, subprocess, sys, tarfile, tempfile, time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from causalcine_nb.cli import main; sys.exit(main())"]


@dataclass
class Step:
    "One measurement: `argv` run from the repository root; `{out}`/`{vae}` in it are filled in at run time."
    name: str
    argv: list[str]
    timeout_s: float          # killed after this long
    min_s: float              # not started with less budget than this left
    what: str                 # what the figure is for (printed in the summary)
    needs: tuple[str, ...] = ()   # "cuda" and/or importable modules ("diffusers")
    json_out: bool = True     # the step writes {out}/{name}.json
    after: tuple[str, ...] = ()   # steps whose success it needs (e.g. the VAE folder)
    smoke_args: list[str] = field(default_factory=list)   # appended in the smoke plan


def _stream(name, preset, chunks, *extra):
    return [*CLI, "bench-stream", "--preset", preset, "--device", "cuda", "--chunks", str(chunks), "--memory", "paper",
            "--json", "{out}/" + name + ".json", *extra]


def _make_vae(tiny: bool) -> list[str]:
    # The real Wan2.1 VAE architecture (diffusers' defaults, ~127 M parameters), random weights; `tiny` for the CPU smoke.
    cfg = ("base_dim=8, dim_mult=[1, 2, 2, 2], num_res_blocks=1" if tiny else "")
    return [sys.executable, "-c", "import sys, torch; from diffusers import AutoencoderKLWan; torch.manual_seed(0); "
            f"AutoencoderKLWan({cfg}).save_pretrained(sys.argv[1]); print('random Wan VAE written to', sys.argv[1])",
            "{vae}"]


# The smoke plan is the gpu plan with these options appended (argparse keeps the last): toy preset, CPU, few chunks,
# no compilation. So the CPU test runs the very commands the device will run, flags and all.
_SMOKE_STREAM = ["--preset", "toy", "--device", "cpu", "--chunks", "3", "--warmup-chunks", "2", "--compile", "none", "--threads", "1"]
_SMOKE_REALTIME = ["--preset", "toy", "--device", "cpu", "--chunks", "2", "--warmup-chunks", "2", "--variants", "sdpa:none,auto:none",
                   "--threads", "1"]
_SMOKE_TF = ["--preset", "toy", "--device", "cpu", "--height", "64", "--width", "64", "--latent-frames", "6", "--text-len", "8",
             "--modes", "dense", "--steps", "1", "--warmup", "0"]


def plan_steps(plan: str) -> list[Step]:
    "The steps of a plan, most valuable first: `gpu` (480x832, the issue's settings) or `smoke` (the same commands, toy-sized, CPU)."
    if plan not in ("gpu", "smoke"):
        raise SystemExit(f"device_checks: unknown plan {plan!r}; use --plan gpu (on the device) or --plan smoke (CPU)")
    big, pytest_cuda = "wan-1.3b", [sys.executable, "-m", "pytest", "-m", "cuda", "tests/test_cuda.py", "-q", "-p", "no:cacheprovider"]
    steps = [
        Step("env", [sys.executable, str(ROOT / "scripts" / "device_checks.py"), "--print-env"], 60, 5,
             "the machine, torch, CUDA and which attention packages import", json_out=False),
        Step("stream-1.3b", _stream("stream-1.3b", big, 12, "--no-decode", "--attention", "auto", "--compile", "none",
                                    "--warmup-chunks", "2"), 180, 60,
             "wan-1.3b DiT, eager, attention chosen at run time", needs=("cuda",), smoke_args=_SMOKE_STREAM),
        Step("vae", _make_vae(False), 90, 20, "a random Wan2.1 VAE of the real architecture", needs=("diffusers",), json_out=False),
        Step("stream-1.3b-vae", _stream("stream-1.3b-vae", big, 12, "--vae", "{vae}", "--attention", "auto",
                                        "--compile", "reduce-overhead", "--warmup-chunks", "9"), 300, 120,
             "wan-1.3b with CUDA graphs and chunk-wise Wan VAE decode: first-chunk latency, real time",
             needs=("cuda", "diffusers"), after=("vae",), smoke_args=_SMOKE_STREAM),
        Step("stream-14b", _stream("stream-14b", "wan-14b", 6, "--no-decode", "--attention", "auto", "--compile", "none",
                                   "--warmup-chunks", "1"), 300, 150,
             "wan-14b DiT on one GPU, eager: the input of the 8-GPU sequence-parallel plan", needs=("cuda",),
             smoke_args=_SMOKE_STREAM),
        Step("realtime-1.3b", [*CLI, "bench-realtime", "--preset", big, "--device", "cuda", "--memory", "paper", "--variants",
                               "sdpa:none,auto:none,auto:default,auto:reduce-overhead", "--chunks", "10", "--warmup-chunks", "9",
                               "--json", "{out}/realtime-1.3b.json"], 330, 120,
             "wan-1.3b: attention backend x torch.compile x CUDA graphs, interleaved chunk by chunk", needs=("cuda",),
             smoke_args=_SMOKE_REALTIME),
        Step("pytest-cuda", pytest_cuda, 240, 60, "FlexAttention fwd/bwd == dense mask, bf16 ~ fp32, GPU training steps, every "
             "attention backend and CUDA graphs == eager (what makes the timings trustworthy)", needs=("cuda",),
             json_out=False),
        Step("tf-step-1.3b", [sys.executable, "scripts/bench_tf_step.py", "--preset", big, "--latent-frames", "21",
                              "--steps", "3", "--warmup", "2", "--json", "{out}/tf-step-1.3b.json"], 240, 150,
             "issue 3: a FlexAttention teacher-forcing training step vs the dense mask", needs=("cuda",), smoke_args=_SMOKE_TF),
    ]
    if plan == "gpu": return steps
    smoke = []
    for s in steps:   # on a CPU: toy sizes, and no step waits for CUDA
        argv = _make_vae(True) if s.name == "vae" else [*s.argv, *s.smoke_args]
        smoke.append(Step(s.name, argv, s.timeout_s, 1, s.what, tuple(n for n in s.needs if n != "cuda"), s.json_out, s.after))
    return smoke


def run_step(argv: list[str], timeout_s: float, log_path: Path, env: dict | None = None) -> dict:
    "Run `argv` from the repository root with output to `log_path`; kill its whole process group after `timeout_s`."
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + shlex.join(argv) + "\n"); log.flush()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            rc, timed_out = proc.wait(timeout=timeout_s), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # torch.compile leaves worker processes: take the group
            rc, timed_out = proc.wait(), True
    return {"rc": rc, "timed_out": timed_out, "wall_s": round(time.perf_counter() - t0, 2)}


def _missing(needs) -> str | None:
    for n in needs:
        if n == "cuda":
            import torch
            if not torch.cuda.is_available(): return "needs a CUDA GPU"
        elif importlib.util.find_spec(n) is None:
            return (f"needs the Python package {n}: on the device make wheels here with `bash scripts/device_prepare.sh`, "
                    "carry .whl and install them first (see this script's docstring)")
    return None


def _blocked(s: Step, results: dict, vae_dir: Path) -> str | None:
    "Why a step that needs an earlier one cannot run (steps run in plan order, so `results` holds this run's)."
    for a in s.after:
        if a in results and results[a]["status"] != "ok": return f"needs step {a}, which was {results[a]['status']}"
        if a not in results and not vae_dir.exists(): return f"needs step {a} first: add it to --steps"
    return None


def _tail(path: Path, n: int = 3) -> list[str]:
    lines = ([l.rstrip() for l in path.read_text(errors="replace").splitlines() if l.strip() and not l.startswith("$ ")]
             if path.exists() else [])
    return lines[-n:]


def run_plan(plan: str, out: Path, budget_s: float, names: list[str] | None = None, reserve_s: float = 10.0,
             tar: bool = False) -> dict:
    "Run a plan's steps (or the named ones, in plan order) within `budget_s`; write the summaries; return summary.json."
    steps = plan_steps(plan)
    known = [s.name for s in steps]
    if names:
        bad = [n for n in names if n not in known]
        if bad: raise SystemExit(f"device_checks: unknown step(s) {bad}; the {plan} plan has {known}")
        steps = [s for s in steps if s.name in names]
    out.mkdir(parents=True, exist_ok=True)
    vae_dir = Path(tempfile.gettempdir()) / f"causalcine_wan_vae_random_{plan}"   # not under out: it must not travel back
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    t_start, results = time.perf_counter(), {}
    for s in steps:
        left = budget_s - (time.perf_counter() - t_start) - reserve_s
        rec = {"what": s.what, "command": None}
        why = _missing(s.needs) or _blocked(s, results, vae_dir)
        if why: rec.update(status="skipped", reason=why)
        elif left < s.min_s:
            rec.update(status="not run", reason=f"{left:.0f} s of budget left, the step needs at least {s.min_s:.0f} s")
        else:
            argv = [a.replace("{out}", str(out)).replace("{vae}", str(vae_dir)) for a in s.argv]
            rec["command"] = shlex.join(argv)
            print(f"[device_checks] {s.name}: {s.what} (limit {min(s.timeout_s, left):.0f} s)", flush=True)
            r = run_step(argv, min(s.timeout_s, left), out / f"{s.name}.log", env)
            ok = r["rc"] == 0 and not r["timed_out"] and (not s.json_out or (out / f"{s.name}.json").exists())
            rec.update(r, status="ok" if ok else "timed out" if r["timed_out"] else "failed", log_tail=_tail(out / f"{s.name}.log"))
            print(f"[device_checks] {s.name}: {rec['status']} in {r['wall_s']:.1f} s", flush=True)
            if s.json_out and (out / f"{s.name}.json").exists():
                rec["result"] = json.loads((out / f"{s.name}.json").read_text())
        results[s.name] = rec
    summary = {"plan": plan, "budget_s": budget_s, "wall_s": round(time.perf_counter() - t_start, 1),
               "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "steps": results}
    summary["figures"] = figures(results)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(summary, plan))
    if tar: pack(out)
    return summary


def figures(results: dict) -> dict:
    "The numbers BENCHMARKS.md needs, pulled out of each step's JSON."
    f = {}
    for name, rec in results.items():
        r = rec.get("result")
        if not r: continue
        if "summary" in r:   # bench-stream
            s, fl, rt = r["summary"], r["flop_floor"], r.get("realtime", {})
            f[name] = {"preset": r["settings"]["preset"], "attention": rt.get("attention"), "compile": rt.get("compile"),
                       "first_chunk_ms": s["first_chunk_ms"], "first_chunk_ms_with_decode": s.get("first_chunk_ms_with_decode"),
                       "steady_fps_dit": s["steady_fps_dit"], "film_fps": s["film_fps"],
                       "steady_fps_with_decode": s.get("steady_fps_with_decode"), "decode_ms_median": s.get("decode_ms_median"),
                       "floor_fps": fl["fps"], "floor_fraction": s["steady_fps_dit"] / fl["fps"],
                       "peak_memory_gib": None if r["peak_memory_bytes"] is None else r["peak_memory_bytes"] / 2**30,
                       "late_early_ratio": s["late_early_ratio"]}
        elif "variants" in r:   # bench-realtime
            f[name] = {v: {k: d.get(k) for k in ("attention", "steady_chunk_ms", "steady_fps_dit", "speedup", "first_chunk_ms",
                                                 "warmup_seconds", "max_abs_diff")} for v, d in r["variants"].items()}
        elif "modes" in r:   # bench_tf_step
            f[name] = {"modes": r["modes"], "dense_over_flex": r.get("dense_over_flex_step_time")}
    return f


def _n(x, fmt="{:.1f}"):
    return "–" if x is None else fmt.format(x)


def summary_markdown(summary: dict, plan: str) -> str:
    res, fig = summary["steps"], summary["figures"]
    env_tail = res.get("env", {}).get("log_tail", [])
    L = [f"# Device checks, plan `{plan}` ({summary['date_utc']} UTC, {summary['wall_s']:.0f} s of a {summary['budget_s']:.0f} s budget)",
         "", *[f"    {l}" for l in env_tail], "", "| step | status | wall s | note |", "|---|---|---|---|"]
    for n, r in res.items():
        note = r.get("reason") or ("; ".join(r.get("log_tail", [])[-1:]) if r.get("status") != "ok" or n == "pytest-cuda" else r["what"])
        L.append(f"| `{n}` | {r['status']} | {_n(r.get('wall_s'))} | {note.replace('|', '/')} |")
    streams = {n: v for n, v in fig.items() if "steady_fps_dit" in v}
    if streams:
        L += ["", "## Streaming (`causalcine bench-stream`)", "",
              "| step | preset | attention | compile | first chunk (DiT / + decode) | steady FPS (DiT) | x real time | "
              "steady FPS + decode | FLOP floor FPS | of the floor | peak memory | late/early |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for n, v in streams.items():
            L.append(f"| `{n}` | {v['preset']} | {v['attention']} | {v['compile']} | {_n(v['first_chunk_ms'], '{:.0f}')} / "
                     f"{_n(v['first_chunk_ms_with_decode'], '{:.0f}')} ms | {_n(v['steady_fps_dit'])} | "
                     f"{_n(v['steady_fps_dit'] / v['film_fps'], '{:.2f}')}x | {_n(v['steady_fps_with_decode'])} | "
                     f"{_n(v['floor_fps'])} | {_n(100 * v['floor_fraction'], '{:.0f}')}% | {_n(v['peak_memory_gib'], '{:.1f} GiB')} | "
                     f"{_n(v['late_early_ratio'], '{:.2f}')} |")
    for n, v in fig.items():
        if "steady_fps_dit" in v or "modes" in v: continue
        L += ["", f"## `{n}`: attention x compile, interleaved (`causalcine bench-realtime`)", "",
              "| variant | attention | steady ms/chunk | FPS (DiT) | speed-up | first chunk ms | warm-up s | max abs diff to the first |",
              "|---|---|---|---|---|---|---|---|"]
        for var, d in v.items():
            L.append(f"| `{var}` | {d['attention']} | {_n(d['steady_chunk_ms'])} | {_n(d['steady_fps_dit'])} | "
                     f"{_n(d['speedup'], '{:.2f}x')} | {_n(d['first_chunk_ms'], '{:.0f}')} | {_n(d['warmup_seconds'])} | "
                     f"{_n(d['max_abs_diff'], '{:.1e}')} |")
    if "tf-step-1.3b" in fig:
        m = fig["tf-step-1.3b"]
        L += ["", "## Teacher-forcing step (`scripts/bench_tf_step.py`)", "", "| attention | step s | peak GiB |", "|---|---|---|"]
        for k, d in m["modes"].items():
            L.append(f"| {k} | {_n(d['step_s_mean'], '{:.2f}')} | {_n(d.get('peak_mem_gib'))} |")
        L.append(f"\ndense / block-sparse: {_n(m['dense_over_flex'], '{:.2f}x')}")
    if plan == "gpu":
        L += ["", "## Against the goals of issue 7 (one GPU, 480x832, 4 steps, chunks of 3 latent frames, CAMR W=3 k=5)", ""]
        dit = [(v["steady_fps_dit"], n) for n, v in streams.items() if v["preset"] == "wan-1.3b"]
        dit += [(d["steady_fps_dit"], f"realtime-1.3b {var}") for var, d in fig.get("realtime-1.3b", {}).items()
                if d.get("steady_fps_dit")]
        if dit:
            best = max(dit)
            L.append(f"- wan-1.3b DiT alone >= 30 FPS: best {best[0]:.1f} FPS ({best[1]}): {'met' if best[0] >= 30 else 'not met'}")
        v = fig.get("stream-1.3b-vae")
        if v and v.get("steady_fps_with_decode"):
            L.append(f"- wan-1.3b real time with VAE decode (>= {v['film_fps']} FPS): {v['steady_fps_with_decode']:.1f} FPS: "
                     f"{'met' if v['steady_fps_with_decode'] >= v['film_fps'] else 'not met'}")
            fc = v["first_chunk_ms_with_decode"]
            L.append(f"- first chunk < 0.4 s: {fc / 1000:.3f} s with decode ({v['first_chunk_ms'] / 1000:.3f} s DiT): "
                     f"{'met' if fc < 400 else 'not met'}")
        v = fig.get("stream-14b")
        if v:
            L.append(f"- wan-14b: {v['steady_fps_dit']:.2f} FPS, {100 * v['floor_fraction']:.0f}% of its one-GPU floor "
                     f"({v['floor_fps']:.2f} FPS at the --tflops figure)")
            # nbs/30's plan: 8-GPU time per chunk >= one-GPU time / 8 + 400 all-to-alls; only the first term is measured here
            L.append(f"- 8-GPU plan (nbs/30_sequence_parallel): one GPU {1000 * 12 / v['steady_fps_dit']:.0f} ms per chunk of 12 "
                     f"frames, so Ulysses on 8 GPUs runs at most {8 * v['steady_fps_dit']:.1f} FPS before its 400 all-to-alls "
                     "per chunk, which `torchrun --nproc-per-node 8 scripts/stream_sp.py --preset wan-14b --device cuda` must "
                     "measure (paper: 16 FPS on 8 H200)")
    left = [n for n, r in res.items() if r["status"] in ("not run", "timed out", "failed")]
    if left:
        L += ["", f"Not finished: {', '.join(left)}. Rerun them with `--steps {','.join(left)}`."]
    return "\n".join(L) + "\n"


def pack(out: Path) -> None:
    "Put every step's JSON and log into results.tar.gz (the device tool brings back at most 8 files)."
    keep = {"summary.json", "summary.md", "results.tar.gz"}
    files = [p for p in sorted(out.iterdir()) if p.is_file() and p.name not in keep]
    with tarfile.open(out / "results.tar.gz", "w:gz") as t:
        for p in files: t.add(p, arcname=p.name)
    for p in files: p.unlink()


def print_env() -> None:
    import torch
    print(f"python {platform.python_version()}, torch {torch.__version__}, cuda {torch.version.cuda}, "
          f"cpus {os.cpu_count()}")
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        print(f"gpu {p.name}, {p.total_memory / 2**30:.1f} GiB, sm_{p.major}{p.minor}, {p.multi_processor_count} SMs")
    mods = {m: importlib.util.find_spec(m) is not None for m in ("flash_attn", "flash_attn_interface", "diffusers", "triton")}
    print("importable: " + ", ".join(f"{m} {'yes' if ok else 'no'}" for m, ok in mods.items()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", default="gpu", choices=["gpu", "smoke"], help="gpu: the issue's settings on CUDA; smoke: toy, CPU")
    p.add_argument("--out", default=os.environ.get("OUT", "runs/device_checks"), help="results folder (default $OUT)")
    p.add_argument("--budget-s", type=float, default=540, help="wall-clock budget for all steps (default 540 s)")
    p.add_argument("--steps", default="", help="comma-separated step names to run (default: all, in plan order)")
    p.add_argument("--tar", action=argparse.BooleanOptionalAction, default=None,
                   help="pack step files into results.tar.gz (default: on for the gpu plan)")
    p.add_argument("--print-env", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.print_env: print_env(); return 0
    if a.plan == "gpu":
        import torch
        if not torch.cuda.is_available():
            print("device_checks: --plan gpu needs a CUDA GPU and this machine has none; run --plan smoke to check the "
                  "harness on a CPU", file=sys.stderr)
            return 2
    s = run_plan(a.plan, Path(a.out).resolve(), a.budget_s, [n for n in a.steps.split(",") if n] or None,
                 tar=a.plan == "gpu" if a.tar is None else a.tar)
    print((Path(a.out) / "summary.md").read_text())
    return 0 if all(r["status"] in ("ok", "skipped") for r in s["steps"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
