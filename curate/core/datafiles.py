"""Reading and writing row files (JSONL, JSON, CSV, Parquet) with errors that name file, line and field."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import InputError

Row = dict[str, Any]


def iter_rows(path: str | os.PathLike) -> Iterator[tuple[int, Row]]:
    """Yield (line_or_row_number, row) from a JSONL/JSON/CSV/Parquet file; malformed lines raise InputError."""
    from .run_state import require_finished
    path = Path(path)
    if not path.exists():
        raise InputError("file does not exist", path=str(path))
    require_finished(path)  # never read a killed or running stage's output as finished
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    if suffix in (".jsonl", ".jsonl.gz", ".ndjson"):
        yield from iter_jsonl(path)
    elif suffix == ".json":
        yield from _iter_json(path)
    elif suffix == ".csv":
        yield from iter_csv(path)
    elif suffix == ".parquet" or path.is_dir():
        for i, row in enumerate(read_parquet(path), 1):
            yield i, row
    else:
        raise InputError("unknown file type (use .jsonl, .json, .csv or .parquet)", path=str(path))


def _iter_json(path: Path) -> Iterator[tuple[int, Row]]:
    """Rows of a .json file: a list of objects, or an object holding `rows`/`data` (or one row)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # utf-8-sig: a byte-order mark is accepted
    except UnicodeDecodeError as e:
        raise InputError(f"invalid UTF-8 ({e.reason} at byte {e.start})", path=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"malformed JSON: {e.msg} (column {e.colno})", path=str(path), line=e.lineno) from None
    if isinstance(data, dict):
        data = data.get("rows") or data.get("data") or [data]
    if not isinstance(data, list):
        raise InputError(f"top level is a JSON {type(data).__name__}, expected a list of objects", path=str(path))
    for i, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise InputError(f"item is {type(row).__name__}, expected an object", path=str(path), line=i)
        yield i, row


def iter_csv(path: str | os.PathLike, *, cells_as_text: bool = False) -> Iterator[tuple[int, Row]]:
    """Rows of a CSV file with a header line; row numbers are file lines (the header is line 1).

    `cells_as_text` keeps every cell a string (a cell "42" stays text to classify, not a number).
    """
    import re

    import pandas as pd
    path = Path(path)
    try:
        frame = pd.read_csv(path, keep_default_na=False, encoding="utf-8-sig", dtype=str if cells_as_text else None)
    except UnicodeDecodeError as e:
        raise InputError(f"invalid UTF-8 ({e.reason} at byte {e.start})", path=str(path)) from None
    except pd.errors.EmptyDataError:
        raise InputError("empty CSV file (expected a header line)", path=str(path)) from None
    except pd.errors.ParserError as e:
        found = re.search(r"line (\d+)", str(e))
        raise InputError(f"malformed CSV: {str(e).strip().splitlines()[-1]}", path=str(path),
                         line=int(found.group(1)) if found else None) from None
    for i, row in enumerate(frame.to_dict("records"), 2):  # line 1 is the header
        yield i, row


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Row]]:
    """(line, object) for each non-blank line of a JSONL file (gzipped when named .gz); errors name the line."""
    import gzip
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        for lineno, raw in enumerate(_lines(f, path), 1):
            try:
                text = raw.decode("utf-8")
                if lineno == 1:
                    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark (Windows editors)
            except UnicodeDecodeError as e:
                raise InputError(f"invalid UTF-8 ({e.reason} at byte {e.start})", path=str(path), line=lineno) from None
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError(f"malformed JSON: {e.msg} (column {e.colno})", path=str(path), line=lineno) from None
            if not isinstance(row, dict):
                raise InputError(f"line is a JSON {type(row).__name__}, expected an object",
                                 path=str(path), line=lineno)
            yield lineno, row


def _lines(f, path: Path) -> Iterator[bytes]:
    """The file's lines; a damaged gzip stream is an InputError naming the file, not an OSError traceback."""
    try:
        yield from f
    except OSError as e:
        raise InputError(f"cannot read: {e}", path=str(path)) from None


def read_rows(path: str | os.PathLike) -> list[Row]:
    """All rows of a file (see iter_rows)."""
    return [row for _, row in iter_rows(path)]


def read_parquet(path: str | os.PathLike) -> list[Row]:
    """Rows of a Parquet file, or of every *.parquet shard in a folder, in name order."""
    import pyarrow.parquet as pq
    path = Path(path)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    rows: list[Row] = []
    for f in files:
        try:
            rows.extend(pq.read_table(f).to_pylist())
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise InputError(f"cannot read Parquet: {e}", path=str(f)) from e
    return rows


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_with(path: str | os.PathLike, writer: Callable[[str], None]) -> None:
    """Let `writer(tmp_path)` produce the file, then rename it over `path` (never a half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(path: str | os.PathLike, rows: list[Row]) -> None:
    """Write rows to Parquet atomically; an empty list writes an empty file with no columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    if not rows:
        table = pa.table({})
    else:
        # from_pylist takes its columns from the first row only; use the union of every row's keys.
        columns = list(dict.fromkeys(k for r in rows for k in r))
        table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
        arrays = [pa.chunked_array([_without_empty_structs(c) for c in col.chunks]) if col.num_chunks else col
                  for col in table.columns]
        table = pa.Table.from_arrays(arrays, names=table.column_names)
    atomic_write_with(path, lambda tmp: pq.write_table(table, tmp))


def _without_empty_structs(arr):
    """The same array with every field-less struct replaced by nulls (offsets and validity kept).

    Parquet cannot store a struct with no fields, which Arrow infers when every dict in a column is
    empty (IFEval's `kwargs: [{}]`); readers map those nulls back to {} (`records.clean_kwargs`).
    """
    import pyarrow as pa
    t = arr.type
    if pa.types.is_struct(t) and t.num_fields == 0:
        return pa.nulls(len(arr))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        values = _without_empty_structs(arr.values)
        if values is arr.values:
            return arr
        cls = pa.ListArray if pa.types.is_list(t) else pa.LargeListArray
        return cls.from_arrays(arr.offsets, values, mask=arr.is_null())
    if pa.types.is_struct(t):
        children = [_without_empty_structs(arr.field(i)) for i in range(t.num_fields)]
        if all(c is arr.field(i) for i, c in enumerate(children)):
            return arr
        return pa.StructArray.from_arrays(children, names=[t.field(i).name for i in range(t.num_fields)],
                                          mask=arr.is_null())
    return arr


def write_jsonl(path: str | os.PathLike, rows: Iterable[Row]) -> None:
    """Write rows as JSON lines atomically."""
    data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    atomic_write_bytes(path, data.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write pretty JSON atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode())
