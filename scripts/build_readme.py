"""Render README.md from nbs/index.ipynb (the README's single source).

nbdev's own `nbdev-readme` needs Quarto; this renderer needs nothing: markdown cells are copied as they
are, code cells are shown as Python blocks, and cells flagged `#| hide` (the notebook's own checks) are left
out. `tests/test_readme.py` fails when README.md and the notebook disagree.

    python scripts/build_readme.py          # rewrite README.md
    python scripts/build_readme.py --check  # exit 1 if README.md is stale
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = ["<!-- Generated from nbs/index.ipynb by scripts/build_readme.py: edit the notebook, not this file. -->"]
    for cell in nb["cells"]:
        src = "".join(cell["source"]).strip()
        if not src: continue
        if cell["cell_type"] == "markdown": parts.append(src)
        elif cell["cell_type"] == "code":
            lines = src.splitlines()
            if any(l.strip().replace(" ", "") in ("#|hide", "#|export", "#|exporti") for l in lines): continue
            body = "\n".join(l for l in lines if not l.lstrip().startswith("#|"))
            if body.strip(): parts.append(f"```python\n{body}\n```")
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    text, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv:
        ok = readme.exists() and readme.read_text() == text
        print("README.md is up to date" if ok else "README.md is stale: run python scripts/build_readme.py")
        sys.exit(0 if ok else 1)
    readme.write_text(text)
    print(f"wrote {readme}")
