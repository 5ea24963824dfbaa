"""`scripts/device_checks.py`, the prepared run of every GPU measurement, checked on the CPU.

The smoke plan runs the gpu plan's own commands with toy-sized overrides appended, so a renamed flag or a broken
summary shows here, not in a few minutes of lent device time.
"""
import importlib.util, json, os, sys, tarfile, time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("device_checks", ROOT / "scripts" / "device_checks.py")
dc = sys.modules["device_checks"] = importlib.util.module_from_spec(_spec)   # dataclasses look their module up
_spec.loader.exec_module(dc)


def test_smoke_plan_runs_the_gpu_commands_and_summarises(tmp_path):
    gpu, smoke = dc.plan_steps("gpu"), dc.plan_steps("smoke")
    assert [s.name for s in gpu] == [s.name for s in smoke]
    for g, s in zip(gpu, smoke):   # the smoke command is the gpu command plus overrides (or the tiny VAE)
        if g.name != "vae": assert s.argv[:len(g.argv)] == g.argv
    out = tmp_path / "dc"
    summary = dc.run_plan("smoke", out, budget_s=600, tar=True)
    status = {n: r["status"] for n, r in summary["steps"].items()}
    assert all(v == "ok" for v in status.values()), {n: summary["steps"][n].get("log_tail") for n in status}
    # packed: the device tool brings back at most 8 files
    assert sorted(p.name for p in out.iterdir()) == ["results.tar.gz", "summary.json", "summary.md"]
    with tarfile.open(out / "results.tar.gz") as t:
        names = set(t.getnames())
        stream = json.load(t.extractfile("stream-1.3b.json"))
    assert {f"{s.name}.log" for s in smoke} <= names
    assert {f"{s.name}.json" for s in smoke if s.json_out} <= names
    f = summary["figures"]
    # figures are read from the benchmark's own JSON, not recomputed
    assert f["stream-1.3b"]["preset"] == "toy"
    assert f["stream-1.3b"]["steady_fps_dit"] == stream["summary"]["steady_fps_dit"] > 0
    assert f["stream-1.3b"]["floor_fraction"] == pytest.approx(stream["summary"]["steady_fps_dit"] / stream["flop_floor"]["fps"])
    assert f["stream-1.3b-vae"]["steady_fps_with_decode"] > 0 and f["stream-1.3b"]["steady_fps_with_decode"] is None
    assert set(f["realtime-1.3b"]) == {"sdpa:none", "auto:none"}
    assert f["realtime-1.3b"]["sdpa:none"]["speedup"] == 1.0
    assert f["tf-step-1.3b"]["modes"]["dense"]["step_s_mean"] > 0
    md = (out / "summary.md").read_text()
    assert "## Streaming" in md and "`auto:none`" in md and "Not finished" not in md
    assert json.loads((out / "summary.json").read_text())["figures"] == json.loads(json.dumps(f))
    # the gpu plan's goal lines, rendered from these (toy) figures
    gpu_md = dc.summary_markdown(summary, "gpu")
    best = max(d["steady_fps_dit"] for d in f["realtime-1.3b"].values())
    assert f"wan-1.3b DiT alone >= 30 FPS: best {best:.1f} FPS" in gpu_md
    assert f"real time with VAE decode (>= 8 FPS): {f['stream-1.3b-vae']['steady_fps_with_decode']:.1f} FPS: met" in gpu_md
    assert f"at most {8 * f['stream-14b']['steady_fps_dit']:.1f} FPS before its 400 all-to-alls" in gpu_md


def test_budget_leaves_steps_unstarted_and_names_the_rerun(tmp_path):
    summary = dc.run_plan("smoke", tmp_path, budget_s=0, names=["env", "stream-1.3b"])
    assert [r["status"] for r in summary["steps"].values()] == ["not run", "not run"]
    assert "needs at least" in summary["steps"]["env"]["reason"]
    assert "`--steps env,stream-1.3b`" in (tmp_path / "summary.md").read_text()


def test_a_step_that_needs_a_failed_step_is_skipped(tmp_path):
    steps = {s.name: s for s in dc.plan_steps("smoke")}
    why = dc._blocked(steps["stream-1.3b-vae"], {"vae": {"status": "failed"}}, tmp_path / "no-vae")
    assert why == "needs step vae, which was failed"
    assert "add it to --steps" in dc._blocked(steps["stream-1.3b-vae"], {}, tmp_path / "no-vae")
    assert dc._blocked(steps["stream-1.3b-vae"], {}, tmp_path) is None   # a VAE folder left by an earlier call


def test_timeout_kills_the_step_and_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    code = ("import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pid_file)!r}, 'w').write(str(c.pid)); time.sleep(60)")
    t0 = time.perf_counter()
    r = dc.run_step([sys.executable, "-c", code], 3, tmp_path / "log")
    assert r["timed_out"] and r["rc"] != 0 and time.perf_counter() - t0 < 30
    child = int(pid_file.read_text())
    for _ in range(50):   # the grandchild got SIGKILL with the group; give the kernel a moment to reap it
        try: os.kill(child, 0)
        except ProcessLookupError: break
        if Path(f"/proc/{child}/status").exists() and "zombie" in Path(f"/proc/{child}/status").read_text(): break
        time.sleep(0.1)
    else: pytest.fail("the step's child process outlived the timeout")


def test_bad_requests_name_the_fix(tmp_path, capsys):
    with pytest.raises(SystemExit, match="unknown step"): dc.run_plan("smoke", tmp_path, 10, names=["stream-2b"])
    with pytest.raises(SystemExit, match="--plan gpu"): dc.plan_steps("tpu")
    if not torch.cuda.is_available():
        assert dc.main(["--out", str(tmp_path / "g")]) == 2
        assert "--plan smoke" in capsys.readouterr().err
