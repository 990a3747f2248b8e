"""PyTorch-layout checkpoints written without torch: ``archive/data.pkl`` (the pickle that
names the storages), ``archive/data/N`` (raw tensor bytes, stored, 64-byte aligned) and
``archive/version``. Large storages are sparse on disk (holes), so a 1 GB checkpoint costs no
disk and no time to write."""

from __future__ import annotations

import zipfile
from pathlib import Path

#: a state-dict pickle as torch writes it (persistent ids name the storages), protocol 2; built
#: by hand so the test needs no torch: collections.OrderedDict + torch._utils._rebuild_tensor_v2
SAFE_DATA_PKL = (
    b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02ctorch._utils\n_rebuild_tensor_v2\nq\x03"
    b"((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x10tq\x08Q"
    b"K\x00K\x10\x85q\tK\x01\x85q\n\x89h\x00)Rq\x0btq\x0cRq\rs."
)


def write_checkpoint(path: Path, storage_bytes: int, data_pkl: bytes = SAFE_DATA_PKL) -> Path:
    """A zip laid out as torch.save does, with one stored storage of ``storage_bytes`` zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/byteorder", b"little")
        # the big member: written through a sparse seek, with its CRC computed over zeros
        info = zipfile.ZipInfo("archive/data/0")
        info.compress_type = zipfile.ZIP_STORED
        with zf.open(info, "w", force_zip64=storage_bytes > (1 << 31)) as out:
            chunk = b"\0" * (1 << 20)
            left = storage_bytes
            while left:
                n = min(left, len(chunk))
                out.write(chunk[:n])
                left -= n
        zf.writestr("archive/version", b"3\n")
    return path

