"""The README is generated from nbs/index.ipynb and its two commands are the ones CI runs."""
import importlib.util, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build_readme():
    spec = importlib.util.spec_from_file_location("build_readme", ROOT / "scripts" / "build_readme.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def readme_commands():
    "The README's first two shell commands (in ```bash blocks), in order."
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_matches_index_notebook():
    assert (ROOT / "README.md").read_text() == _build_readme().render(), \
        "README.md is stale: run `python scripts/build_readme.py`"


def test_readme_opens_with_two_one_line_commands():
    cmds = readme_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds), cmds
    install_run, install_test = cmds
    assert install_run.startswith("pip install") and "causalcine " in install_run
    assert install_test.startswith("pip install") and "pytest" in install_test


def test_ci_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for cmd in readme_commands():
        assert cmd in ci, f".ci/run must run the README command verbatim: {cmd}"
