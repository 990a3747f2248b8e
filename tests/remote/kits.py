"""KitOps ModelKits built in the tests and pushed with ORAS using the KitOps media types: a
config that is the Kitfile (JSON), and tar layers for the model, datasets, code and docs."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

KIT_CONFIG = "application/vnd.kitops.modelkit.config.v1+json"
MODEL_TAR = "application/vnd.kitops.modelkit.model.v1.tar"
DATASET_TAR = "application/vnd.kitops.modelkit.dataset.v1.tar"
DOCS_TAR = "application/vnd.kitops.modelkit.docs.v1.tar"
CODE_TARGZ = "application/vnd.kitops.modelkit.code.v1.tar+gzip"


def tar_of(dest: Path, files: dict[str, bytes | Path], gzip: bool = False) -> Path:
    with tarfile.open(dest, "w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            if isinstance(data, Path):
                ti.size = data.stat().st_size
                with open(data, "rb") as fh:
                    tf.addfile(ti, fh)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return dest


def kitfile(name: str, model_path: str, datasets: list[str], license: str = "apache-2.0") -> dict:
    return {
        "manifestVersion": "1.0.0",
        "package": {"name": name, "version": "1.0.0", "license": license, "authors": ["tests"]},
        "model": {"name": name, "path": model_path, "license": license},
        "datasets": [{"name": Path(d).stem, "path": d, "license": "cc-by-4.0"} for d in datasets],
        "docs": [{"path": "README.md"}],
    }


def push(host: str, ref: str, workdir: Path, kit: dict, layers: list[tuple[Path, str]]) -> str:
    """Push with ORAS (plain HTTP to the loopback registry); returns ``oci://host/ref``."""
    import oras.client

    cfg = workdir / "config.json"
    cfg.write_text(json.dumps(kit))
    client = oras.client.OrasClient(hostname=host, insecure=True)
    cwd = os.getcwd()
    os.chdir(workdir)  # ORAS names a layer by the path it was given
    try:
        client.push(target=f"{host}/{ref}", files=[f"{p.name}:{media}" for p, media in layers],
                    manifest_config=f"config.json:{KIT_CONFIG}", disable_path_validation=True, quiet=True)
    finally:
        os.chdir(cwd)
    return f"oci://{host}/{ref}"
