"""Links in archives: torch's legacy tar loader extracts ``pickle`` and unpickles whatever file it
names, and any link that points outside an archive exposes or overwrites files when extracted."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from modelsamples import EMPTY_DICT, pickle_of, scan_file

PICKLE = pickle_of(EMPTY_DICT)


def tar_of(*members: tuple[str, bytes | None, str | None, bytes]) -> bytes:
    """(name, data, link target, link type) members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, target, kind in members:
            ti = tarfile.TarInfo(name)
            if target is not None:
                ti.type, ti.linkname = kind, target
                tf.addfile(ti)
            else:
                ti.size = len(data or b"")
                tf.addfile(ti, io.BytesIO(data or b""))
    return buf.getvalue()


def torch_tar(pickle_member: tuple[str | None, bytes]) -> bytes:
    target, kind = pickle_member
    return tar_of(("sys_info", pickle_of(EMPTY_DICT), None, b""), ("storages", pickle_of(EMPTY_DICT), None, b""),
                  ("tensors", pickle_of(EMPTY_DICT), None, b""),
                  ("pickle", PICKLE if target is None else None, target, kind))


def _links(rep):
    return [(h.key, h.severity, h.blocking) for h in rep.hits if h.key.startswith("link")]


@pytest.mark.parametrize("target,kind", [("/etc/passwd", tarfile.SYMTYPE), ("../../home/u/.cache/x.pkl", tarfile.SYMTYPE),
                                         ("/tmp/planted.pkl", tarfile.LNKTYPE)])
def test_torch_tar_link_outside_blocks_critical(tmp_path, target, kind):
    rep = scan_file(tmp_path, "legacy.tar", torch_tar((target, kind)))
    assert _links(rep) == [("link-escape", "critical", True)]


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_torch_tar_link_inside_still_blocks_critical(tmp_path, kind):
    rep = scan_file(tmp_path, "legacy.tar", torch_tar(("storages", kind)))
    assert _links(rep) == [("link-torch", "critical", True)]


def test_benign_torch_tar_passes(tmp_path):
    rep = scan_file(tmp_path, "legacy.tar", torch_tar((None, b"")))
    assert not rep.hits, rep.hits
    assert rep.formats[0] == "pytorch-legacy"


def test_any_tar_link_outside_blocks(tmp_path):
    data = tar_of(("data/weights.bin", b"\0" * 8, None, b""), ("data/latest", None, "../../../etc/shadow", tarfile.SYMTYPE))
    assert _links(scan_file(tmp_path, "bundle.tar", data)) == [("link-escape", "critical", True)]


def test_plain_tar_link_inside_is_only_noted(tmp_path):
    data = tar_of(("data/weights.bin", b"\0" * 8, None, b""), ("data/latest", None, "weights.bin", tarfile.SYMTYPE))
    assert _links(scan_file(tmp_path, "bundle.tar", data)) == [("link", "medium", None)]


def _zip_with_symlink(name: str, target: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model/weights.bin", b"\0" * 8)
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, target)
    return buf.getvalue()


def test_zip_symlink_outside_blocks(tmp_path):
    rep = scan_file(tmp_path, "bundle.zip", _zip_with_symlink("model/pickle", "/etc/passwd"))
    assert _links(rep) == [("link-escape", "critical", True)]


def test_zip_symlink_inside_is_only_noted(tmp_path):
    rep = scan_file(tmp_path, "bundle.zip", _zip_with_symlink("model/latest", "weights.bin"))
    assert _links(rep) == [("link", "medium", None)]


@pytest.mark.parametrize("name,target,hard,out", [
    ("a/b", "c", False, False), ("a/b", "../c", False, False), ("a/b", "../../c", False, True), ("a", "/x", False, True),
    ("a/b", "../c", True, True), ("a/b", "a/c", True, False), ("x", "C:/Windows", False, True), ("x", "..\\..\\y", False, True),
])
def test_link_escape_rules(name, target, hard, out):
    from gates.model.containers import link_escapes

    assert link_escapes(name, target, hard) is out
