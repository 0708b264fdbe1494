"""A study's claims file: the paper's conclusions as statements about estimands.

Format (YAML, ``format: bayes_resil.claims/1``; documented in ``docs/claims.md``)::

    study: cbec
    claims:
      - id: baseline_positive          # letters, digits, underscores
        text: The pilot zones raise urban economic resilience
        source: Table 2
        test: positive                 # positive | order | no_pretrends | placebo
        estimands: [att]               # positive: each > 0; order: in decreasing order
        outcomes: [y]                  # positive: every (estimand, outcome) pair
        methods: [twfe_controls]       # the paper's estimator(s): the replication lens
        robust: true                   # heterogeneity-robust estimators are evidence
        bayes: null                    # model names whose posterior speaks (null: effect models)
        groups: {}                     # label -> {cohort: [...]} or {region: [...]}
        also: []                       # extra lenses {method, estimands, outcome, role}
        first_stage: null              # IV claims: the first-stage method (F >= 10)
        published: {text: "0.0357 (0.0046)***", twfe_controls: 0.0357, se: 0.0046}

The CBEC paper's claims ship with the package (``design_data/claims_cbec.yaml``); a user study
names its own file with ``claims.file=...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import InputError

FORMAT = "bayes_resil.claims/1"
TESTS = ("positive", "order", "no_pretrends", "placebo")
ROLES = ("evidence", "condition", "sensitivity", "context")
#: the Bayesian models whose effect estimands speak to effect claims by default
EFFECT_MODELS = ("twfe", "hetero_region", "hetero_batch", "event_study", "staggered")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_KEYS = {"id", "text", "source", "test", "estimands", "outcomes", "methods", "robust", "bayes",
         "groups", "also", "first_stage", "published"}


@dataclass(frozen=True)
class ExtraLens:
    """An extra lens of a claim: ``method``'s rows of ``estimands`` (``outcome``) under the
    claim's test, with ``role`` evidence / sensitivity / context."""

    method: str
    estimands: tuple[str, ...]
    outcome: str = "y"
    role: str = "sensitivity"


@dataclass(frozen=True)
class Claim:
    """One conclusion of the paper, checkable on a run's results."""

    id: str
    text: str
    test: str
    source: str = ""
    estimands: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ("y",)
    methods: tuple[str, ...] = ()
    robust: bool = True
    bayes: tuple[str, ...] | None = None
    groups: dict[str, dict[str, tuple]] = field(default_factory=dict)
    also: tuple[ExtraLens, ...] = ()
    first_stage: str | None = None
    published: dict = field(default_factory=dict)

    def group_of(self, estimand: str) -> tuple[str, dict] | None:
        """(label, selector) of the group whose estimand is ``att[<label>]``, else None."""
        return next(((label, sel) for label, sel in self.groups.items()
                     if estimand == f"att[{label}]"), None)

    def models(self) -> tuple[str, ...]:
        """The Bayesian models whose posterior is a lens of this claim."""
        return EFFECT_MODELS if self.bayes is None else self.bayes


@dataclass(frozen=True)
class ClaimSet:
    study: str | None
    claims: tuple[Claim, ...]
    source: str
    paper: str = ""


def _seq(value, where: str, what: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str | int):
        return (value,)
    if not isinstance(value, list | tuple):
        raise InputError(f"{where}: {what} must be a list, got {type(value).__name__}")
    return tuple(value)


def _groups(raw, where: str) -> dict[str, dict[str, tuple]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: groups must map a label to {{cohort: [...]}} or "
                         "{region: [...]}")
    out = {}
    for label, sel in raw.items():
        if not isinstance(sel, dict) or not sel or set(sel) - {"cohort", "region"}:
            raise InputError(f"{where}: group {label!r} must be {{cohort: [...]}} or "
                             f"{{region: [...]}}, got {sel!r}")
        out[str(label)] = {k: tuple(int(v) if k == "cohort" else str(v)
                                    for v in _seq(vals, where, f"groups.{label}.{k}"))
                           for k, vals in sel.items()}
    return out


def parse_claim(raw: dict, where: str) -> Claim:
    """One claim from its mapping; an error names the claim and the key."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a claim must be a mapping with id, text and test")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
    cid = str(raw.get("id", ""))
    if not _ID.match(cid):
        raise InputError(f"{where}: id {cid!r} must start with a letter and hold only letters, "
                         "digits and underscores")
    where = f"{where} ({cid})"
    for key in ("text", "test"):
        if not raw.get(key):
            raise InputError(f"{where}: {key} is required")
    test = str(raw["test"])
    if test not in TESTS:
        raise InputError(f"{where}: test {test!r} is not known; use one of {list(TESTS)}")
    estimands = tuple(str(e) for e in _seq(raw.get("estimands"), where, "estimands"))
    if test == "positive" and not estimands:
        raise InputError(f"{where}: test positive needs estimands (e.g. [att])")
    if test == "order" and len(estimands) < 2:
        raise InputError(f"{where}: test order needs at least two estimands, largest first")
    also = []
    for i, extra in enumerate(_seq(raw.get("also"), where, "also")):
        if not isinstance(extra, dict) or "method" not in extra or "estimands" not in extra:
            raise InputError(f"{where}: also[{i}] needs method and estimands")
        role = str(extra.get("role", "sensitivity"))
        if role not in ROLES:
            raise InputError(f"{where}: also[{i}].role {role!r}: use one of {list(ROLES)}")
        also.append(ExtraLens(str(extra["method"]),
                              tuple(str(e) for e in _seq(extra["estimands"], where, "estimands")),
                              str(extra.get("outcome", "y")), role))
    bayes = raw.get("bayes")
    published = raw.get("published") or {}
    if not isinstance(published, dict):
        raise InputError(f"{where}: published must be a mapping (text and numbers)")
    return Claim(
        id=cid, text=str(raw["text"]), test=test, source=str(raw.get("source", "")),
        estimands=estimands,
        outcomes=tuple(str(o) for o in _seq(raw.get("outcomes"), where, "outcomes")) or ("y",),
        methods=tuple(str(m) for m in _seq(raw.get("methods"), where, "methods")),
        robust=bool(raw.get("robust", True)),
        bayes=None if bayes is None else tuple(str(m) for m in _seq(bayes, where, "bayes")),
        groups=_groups(raw.get("groups"), where), also=tuple(also),
        first_stage=raw.get("first_stage"), published=dict(published))


def parse_claims(doc: dict, source: str) -> ClaimSet:
    if not isinstance(doc, dict) or "claims" not in doc:
        raise InputError(f"{source}: a claims file is a mapping with a 'claims' list "
                         "(docs/claims.md)")
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        raise InputError(f"{source}: format {fmt!r} is not {FORMAT!r}")
    claims = [parse_claim(c, f"{source}: claims[{i}]")
              for i, c in enumerate(_seq(doc["claims"], source, "claims"))]
    ids = [c.id for c in claims]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{source}: claim id(s) {dup} repeated")
    return ClaimSet(doc.get("study"), tuple(claims), source, str(doc.get("paper", "")))


def load_claims(path: str | Path | None = None, study: str | None = None) -> ClaimSet | None:
    """The claims of ``path`` (YAML), else those shipped for ``study`` (``cbec``), else None."""
    import yaml

    if path:
        p = Path(str(path)).expanduser()
        if not p.is_file():
            raise InputError(f"claims.file={path}: no such file")
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"claims.file={path}: not valid YAML ({exc})") from exc
        return parse_claims(doc, str(p))
    if study is None:
        return None
    shipped = resources.files("bayes_resil.design_data") / f"claims_{study}.yaml"
    if not shipped.is_file():
        return None
    return parse_claims(yaml.safe_load(shipped.read_text(encoding="utf-8")),
                        f"claims_{study}.yaml")
