"""Instrumental variables (the paper's Table 4): 2SLS of y on d instrumented by
``instrument x post``, both fixed effects and the controls.

``post=own`` uses the unit's own ``Post_it`` (= ``d``), the paper's definition; the instrument is
then a function of the treatment itself, which re-weights the DID by the instrument rather than
bringing outside variation - said in the row's note. ``post=common`` uses
``1[time >= common_year]`` for every unit.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..estimates import Estimate, from_fe_ols, with_extra
from ..iv import fe_iv
from ..schema import IVBlock, typed
from ..study import StudyData

WEAK = 10.0


def instrumental(data: StudyData, cfg: Mapping, controls: list[str], *, level: float, vcov: str,
                 cluster: str, drop_singletons: bool, tag: str
                 ) -> tuple[list[Estimate], list[str]]:
    p = data.panel
    cfg = typed(IVBlock, cfg)
    inst = cfg.instrument
    if not inst or inst not in p.columns:
        return [], [f"iv: no instrument column {inst!r} in the panel"]
    post = cfg.post
    if post == "own":
        post_col = p["d"]
        post_note = "post = own Post_it (= d): the instrument is a function of d"
    else:
        year = cfg.common_year
        year = int(p["cohort"].min()) if year is None else int(year)
        post_col = (p["time"] >= year).astype(int)
        post_note = f"post = 1[time >= {year}] for every unit"
    z = f"{inst}_x_post"
    frame = p.assign(**{z: p[inst] * post_col})
    res = fe_iv(frame, "y", "d", [z], controls, ["unit", "time"], cluster=cluster, vcov=vcov,
                drop_singleton_fe=drop_singletons)
    f_note = (f"first-stage cluster-robust Wald F = {res.first_stage_f:.1f}"
              + (f" < {WEAK:.0f}: WEAK INSTRUMENT, 2SLS unreliable"
                 if res.first_stage_f < WEAK else ""))
    first = from_fe_ols(res.first_stage, z, estimand=f"coef[{z}]", method="iv_first_stage",
                        outcome="d", level=level, data_source=tag, note=f"{post_note}; {f_note}")
    second = from_fe_ols(res.second_stage, "d", estimand="att", method="iv_2sls", level=level,
                         data_source=tag, note=f"instrument {z}; {post_note}; {f_note}")
    extra = {"first_stage_F": res.first_stage_f, "weak_instrument": res.first_stage_f < WEAK}
    return [with_extra(first, **extra), with_extra(second, **extra)], []
