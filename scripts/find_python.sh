#!/usr/bin/env sh
# Print the path of a Python >= 3.12 interpreter, or explain and exit 1.
# Order: $PYTHON, python3.13, python3.12, python3, python, then pyenv / uv installs.
check() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}
for cand in "${PYTHON:-}" python3.13 python3.12 python3 python \
            "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 \
            "$HOME"/.local/share/uv/python/cpython-3.1[2-9]*/bin/python3 \
            /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -n "$cand" ] || continue
    path=$(command -v "$cand" 2>/dev/null) || continue
    if check "$path"; then
        echo "$path"
        exit 0
    fi
done
cat >&2 <<'MSG'
bayes_resil needs Python >= 3.12 (PyMC 6 does not support older versions), and none was found.
Looked for: $PYTHON, python3.13, python3.12, python3, python, ~/.pyenv/versions/3.12+ .
Install one (e.g. `pyenv install 3.12`, `uv python install 3.12`, or your OS package) and
re-run, or point to it: `make run PYTHON=/path/to/python3.12`.
MSG
exit 1
