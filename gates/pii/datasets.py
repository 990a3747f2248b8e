"""Small files of one schema in one directory, classified as the one table they make.

Why: a column's semantic decision (names, street addresses, birth dates, phone numbers without
a format, national ids...) is made from its values, and a file of eight rows has too few of them
(:data:`columns.MIN_VALUES`): a table split into small parts with plain headers passed the gate,
while the same rows in one file were found. It was also the cost of many small files: 592 parts
of 24 rows meant 8,880 column classifications where the same rows in one file needed 15.

So the parts of one table (same directory, same format, same column labels; in an archive, the
same directory of the archive: :class:`gate._ArchiveScan`) share their columns' decisions. They
are made once, on the first :data:`columns.SAMPLE` values of each column taken from the
directory's first parts in discovery order, exactly as one file's decisions are made from its
first rows. Each part is still counted and reported on its own.

The table also shares one file's check budget: one file checks up to :data:`semantic.MAX_CHECK`
values of a decided column (1,000 phone numbers) and estimates the rest; a part checks its
share of that budget (at least :data:`semantic.PART_CHECK` values), by its bytes' share of
the table's, and then stops, but only
where its verdict is already settled: the entity's rule blocks on any share once it has counted
``min_count`` values, or only warns and has counted one. A part whose verdict could still turn
on its count (a ``max_fraction`` rule) checks every value, as before. So which parts have a
finding, and which findings block, is what checking every value gives; a part's count is then an
estimate with its interval, as for rows past one file's budget. A table's bytes are those of its
directory's small files times its share of the bytes sampled, and it is a
table only if its sample took more than one part: a file that fills a sample alone, or whose
schema no other sampled part has, checks its values as one file does. None of this depends on
which files a job reads.

Which parts are sampled does not depend on how the run is split: the parts are the first
:data:`POOL_FILES` small files of the directory among *every* file discovered (before ``--shard``
took a job's share), and a batch or worker that lacks some of them reads them itself. A part
that could not be read is left out of the sample (the job that owns it reports it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .semantic import Preset, SemanticPass

if TYPE_CHECKING:
    from .readers import Chunk, FileInfo
    from .scanner import ScanConfig

#: the first small files of a directory whose rows are sampled (a table's first 200 values per
#: column take 9 parts of 24 rows, 25 of 8; a directory of unrelated small files costs at most
#: this many extra reads per process)
POOL_FILES = 64

#: a table's identity within a directory: the reader's format and the column labels in order
Key = tuple[str, tuple[str, ...]]


def key_of(info: "FileInfo", chunks: Sequence["Chunk"]) -> Key | None:
    """The schema of a file that was read: None for files without labelled columns (text)."""
    labels: list[str] = []
    seen: set[str] = set()
    for ch in chunks:
        for c in ch.columns:
            if c.label is not None and c.label not in seen:
                seen.add(c.label)
                labels.append(c.label)
    return (info.format, tuple(labels)) if labels else None


@dataclass(frozen=True)
class Parts:
    """A directory's small files: the first :data:`POOL_FILES` (sampled, in discovery order),
    and their bytes in all (what one file's check budget is shared by)."""

    first: tuple[str, ...]
    bytes: int


def members(discovered: Iterable[Path], small: Any) -> dict[str, Parts]:
    """Per directory with more than one, its small files: ``small(path)`` gives a file's size,
    or None for a file that is not small (``discovered`` is every file of the run, before
    sharding)."""
    out: dict[str, list[str]] = {}
    count: dict[str, int] = {}
    size: dict[str, int] = {}
    for p in discovered:
        n = small(p)
        if n is not None:
            d = str(p.parent)
            count[d] = count.get(d, 0) + 1
            size[d] = size.get(d, 0) + n
            got = out.setdefault(d, [])
            if len(got) < POOL_FILES:
                got.append(str(p))
    return {d: Parts(tuple(ps), size[d]) for d, ps in out.items() if count[d] > 1}  # a lone file decides alone


@dataclass
class _Directory:
    """One directory's sampling state: parts read so far, one sampling pass per schema."""

    parts: tuple[str, ...]
    next: int = 0
    passes: dict[Key, SemanticPass] = field(default_factory=dict)
    decided: dict[Key, Preset] = field(default_factory=dict)
    read: int = 0  # bytes of the parts read
    #: per schema, its parts fed and their bytes, and once its sample is full, those with the
    #: bytes read by then
    fed: dict[Key, tuple[int, int]] = field(default_factory=dict)
    fill: dict[Key, tuple[int, int, int]] = field(default_factory=dict)
    table: dict[Key, float] = field(default_factory=dict)  # a table's bytes (0: not a table)


class Datasets:
    """The decisions of the tables in the directories one process scans, made on first use.

    ``read(path)`` returns ``(info, chunks)`` for a part that is not at hand, or raises."""

    def __init__(self, cfg: "ScanConfig", read: Any) -> None:
        self.cfg = cfg
        self.read = read
        self.dirs: dict[str, _Directory] = {}
        #: per column label and scanner pattern, whether its cells were mostly candidates in the
        #: last batch (:func:`engine._matched_many`): as a file's column, from chunk to chunk
        self.dense: dict[tuple[str | None, str], bool] = {}

    def preset(self, path: str, key: Key | None, parts: Parts | None,
               at_hand: Mapping[str, tuple["FileInfo", list["Chunk"]]]) -> Preset | None:
        """The decisions for the columns of ``path`` (schema ``key``), from the first parts of
        its directory with the same schema; None when none of them has that schema (the file
        is then classified alone, as before)."""
        if key is None or not parts:
            return None
        d = self.dirs.get(str(Path(path).parent))
        if d is None:
            d = self.dirs[str(Path(path).parent)] = _Directory(parts.first)
        elif len(parts.first) > len(d.parts):
            d.parts = parts.first  # an archive's parts, known as its members are copied (same order)
        got = d.decided.get(key)
        if got is not None:
            return self._share(got, path, d.table[key])
        while not self._full(d.passes.get(key)) and d.next < len(d.parts):
            part = d.parts[d.next]
            d.next += 1
            self._sample(d, part, at_hand)
        sem = d.passes.pop(key, None)  # decided now: its samples are not needed again
        if sem is None:
            return None
        got = d.decided[key] = Preset(sem.decisions())
        mine, size, read = d.fill.get(key) or (*d.fed.get(key, (0, 0)), d.read)
        d.table[key] = parts.bytes * size / read if mine > 1 and read > 0 else 0.0
        return self._share(got, path, d.table[key])

    @staticmethod
    def _share(preset: Preset, path: str, table: float) -> Preset:
        """``preset`` with ``path``'s share of its table's check budget: its bytes' share of the
        table's."""
        if table <= 0:
            return preset
        return replace(preset, share=min(1.0, file_size(path) / table))

    def _sample(self, d: _Directory, part: str, at_hand: Mapping[str, tuple["FileInfo", list["Chunk"]]]) -> None:
        loaded = at_hand.get(part)
        if loaded is None:
            try:
                info, chunks = self.read(Path(part))
                loaded = (info, list(chunks))
            except Exception:  # noqa: BLE001 - left out of the sample; its owner reports it
                return
        size = file_size(part)
        d.read += size
        k = key_of(*loaded)
        if k is None or k in d.decided:
            return
        sem = d.passes.get(k)
        if sem is None:
            sem = d.passes[k] = SemanticPass(self.cfg, sample_only=True)
        if self._full(sem):
            return
        for ch in loaded[1]:
            sem.feed(ch)
        n, b = d.fed.get(k, (0, 0))
        d.fed[k] = (n + 1, b + size)
        if self._full(sem):
            d.fill[k] = (n + 1, b + size, d.read)

    @staticmethod
    def _full(sem: SemanticPass | None) -> bool:
        """Every column of the schema has its sample (more parts would not change a decision)."""
        return sem is not None and sem.sampled()


def file_size(path: str | Path) -> int:
    """A file's size now (the same as discovery's, unless it changed since), or 0 if it is gone
    or unreadable: whoever reads it reports that, naming the file."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0
