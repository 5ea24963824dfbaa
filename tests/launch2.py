"""Shared by the multi-process tests: run a script on 2 CPU processes through `accelerate launch` (gloo)."""
import os, socket, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def accelerate_2proc(script: str, args: list[str], timeout: int = 240) -> str:
    "Run `scripts/<script>` on two CPU processes with the shipped config; returns stdout, fails with the output."
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ROOT / "scripts/accelerate/cpu_2proc.yaml"),
           "--main_process_port", str(free_port()), str(ROOT / "scripts" / script), *args]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r.stdout
