"""Baseline TWFE DID (the paper's Table 2): unit and time fixed effects, with/without controls."""

from __future__ import annotations

from collections.abc import Mapping

from ..estimates import Estimate, from_fe_ols
from ..ols import fe_ols
from ..schema import FreqConfig, typed
from ..study import StudyData


def baseline_twfe(data: StudyData, freq_cfg: Mapping, level: float = 0.95) -> list[Estimate]:
    """``y ~ d | unit + time`` (``method=twfe``) and, when controls exist, with them
    (``method=twfe_controls``); estimand ``att``. Listwise deletion: each row states its n."""
    freq_cfg = typed(FreqConfig, freq_cfg)
    vcov, cluster = str(freq_cfg.vcov), freq_cfg.cluster
    singletons = bool(freq_cfg.drop_singletons)
    tag = "simulated" if data.simulated else data.source
    rows = []
    res = fe_ols(data.panel, "y", ["d"], ["unit", "time"], cluster=cluster, vcov=vcov,
                 drop_singleton_fe=singletons)
    rows.append(from_fe_ols(res, "d", estimand="att", method="twfe", level=level,
                            data_source=tag))
    controls = [c for c in data.controls if c in data.panel.columns]
    if controls and freq_cfg.with_controls:
        res_c = fe_ols(data.panel, "y", ["d", *controls], ["unit", "time"], cluster=cluster,
                       vcov=vcov, drop_singleton_fe=singletons)
        rows.append(from_fe_ols(res_c, "d", estimand="att", method="twfe_controls",
                                level=level, data_source=tag))
        for c in controls:
            rows.append(from_fe_ols(res_c, c, estimand=f"coef[{c}]", method="twfe_controls",
                                    level=level, data_source=tag))
    return rows
