"""Every notebook in nbs/ is a test: one pytest test per notebook, so CI counts them.

Cells flagged `#| slow` run only with `--runslow`; cells flagged `#| cuda` run only where CUDA exists.
"""
from pathlib import Path

import pytest
import torch
from nbdev.test import test_nb as _run_notebook  # renamed so pytest does not collect it

NBS = Path(__file__).resolve().parents[1] / "nbs"
NOTEBOOKS = sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb, request):
    skip, force = ["slow", "cuda"], []
    if request.config.getoption("--runslow"):
        skip.remove("slow"); force.append("slow")
    if torch.cuda.is_available():
        skip.remove("cuda"); force.append("cuda")
    ok, secs = _run_notebook(nb, skip_flags=skip, force_flags=force, showerr=True)
    assert ok, f"notebook {nb.name} failed (see the captured error above)"
