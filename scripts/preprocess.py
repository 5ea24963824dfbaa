"""Encode a folder of multi-shot films (+ shot scripts, or TransNetV2 cuts) into Wan VAE latent and UMT5 text shards.

The logic lives in nbs/31_preprocess.ipynb (exported to causalcine_nb/preprocess.py); this file is the entry point for
`python scripts/preprocess.py --src FILMS --out SHARDS --vae WAN_DIR --text-encoder WAN_DIR ...`. `--help` lists every
flag; running it again resumes. Train on the result with `scripts/train.py --data-shards SHARDS`.
"""
from causalcine_nb.preprocess import preprocess_main

if __name__ == "__main__":
    raise SystemExit(preprocess_main())
