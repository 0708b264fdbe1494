"""Read a user's panel file (CSV, TSV, Parquet, Excel, Stata .dta) into a DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xls": "excel",
    ".xlsm": "excel",
    ".dta": "stata",
}


def detect_format(path: Path, fmt: str | None) -> str:
    """Format from the ``fmt`` option or the file extension; a clear error otherwise."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in set(FORMATS.values()):
            raise InputError(
                f"data.format={fmt!r} is not supported; use one of "
                f"{sorted(set(FORMATS.values()))}"
            )
        return fmt
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"cannot tell the format of {path} from its extension {path.suffix!r}. Supported: "
            f"{', '.join(sorted(FORMATS))}; or set data.format=csv|tsv|parquet|excel|stata."
        ) from None


def read_table(path: str | Path, fmt: str | None = None, sheet: str | int | None = None
               ) -> pd.DataFrame:
    """Read ``path`` as a table. Errors name the file and say what to do."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"data file {path} does not exist (working directory: {Path.cwd()}). Check "
            "data.path; relative paths are taken from the directory you run the command in."
        )
    if path.is_dir():
        raise InputError(f"data.path={path} is a directory; give a file")
    kind = detect_format(path, fmt)
    try:
        if kind == "csv":
            frame = pd.read_csv(path, encoding="utf-8-sig")
        elif kind == "tsv":
            frame = pd.read_csv(path, sep="\t", encoding="utf-8-sig")
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        elif kind == "excel":
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
        else:
            frame = pd.read_stata(path, convert_categoricals=False)
    except InputError:
        raise
    except Exception as exc:  # parser errors differ by format; report them plainly
        raise InputError(f"could not read {path} as {kind}: {exc}") from None
    if frame.empty:
        raise InputError(f"{path} has no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
