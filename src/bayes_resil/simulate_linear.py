"""A linear panel on the real CBEC design, with known effects (``data=linear``).

Where :mod:`.simulate` draws yearbook indicators and builds the resilience index from them
(so the effect on the index is non-linear and heterogeneous by construction), this generator
draws the outcome directly from a two-way model. It is the textbook case a calibration study
needs: with a constant effect and iid errors the TWFE estimator and its classical standard
error are exact, so a coverage study must find 95% coverage, and each knob below breaks one
assumption at a time::

    y_it = a_i + trend_i (t - t0) + g_t + tau_it + e_it

    a_i      ~ N(0, unit_sd^2)                    city levels
    trend_i  ~ N(0, trend_sd^2)                   city-specific linear trends (parallel in
                                                  expectation: independent of adoption)
    g_t      ~ N(0, time_sd^2)                    year effects
    e_it     AR(1) within city, sd noise_sd, autocorrelation noise_rho (stationary start)
    tau_it   = (effect + effect_growth * e) * region_mult[r] * batch_mult[b] + u_i
               for event time e = t - cohort >= 0, else 0;  u_i ~ N(0, unit_effect_sd^2)

The design (cities, regions, batches, adoption years) is the real one (``data.roster``). Both
potential outcomes are kept, so ``truth.csv`` holds the effect on the treated city-years as for
the CBEC simulator. Same seed, same panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .design import study_design
from .simulate import DesignSpec, ar1_noise


@dataclass(frozen=True)
class LinearSpec(DesignSpec):
    """Knobs of the linear panel (``data.simulation.<knob>`` with ``data=linear``)."""

    effect: float = 0.03
    effect_growth: float = 0.0
    region_mult: dict[str, float] = field(
        default_factory=lambda: {"East": 1.0, "Central": 1.0, "West": 1.0})
    batch_mult: dict[int, float] = field(
        default_factory=lambda: {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0})
    unit_effect_sd: float = 0.0
    unit_sd: float = 0.05
    trend_sd: float = 0.0
    time_sd: float = 0.02
    noise_sd: float = 0.01
    noise_rho: float = 0.0


def simulate_linear(spec: LinearSpec | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """The panel (long, one row per city-year, outcome ``y``) and the untreated outcome."""
    spec = spec or LinearSpec()
    rng = np.random.default_rng(spec.seed)
    design = study_design(spec.roster)
    years = np.arange(spec.first_year, spec.last_year + 1)
    n_u, n_t = len(design), len(years)

    level = rng.normal(0.0, spec.unit_sd, n_u)
    trend = rng.normal(0.0, spec.trend_sd, n_u)
    year_effect = rng.normal(0.0, spec.time_sd, n_t)
    noise = ar1_noise(rng, n_u, n_t, spec.noise_sd, spec.noise_rho)
    unit_effect = rng.normal(0.0, spec.unit_effect_sd, n_u)

    cohort = design["cohort"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    event = years[None, :] - cohort[:, None]
    treated = np.nan_to_num(event, nan=-1.0) >= 0
    batch_mult = {int(k): float(v) for k, v in spec.batch_mult.items()}
    region_mult = {str(k): float(v) for k, v in spec.region_mult.items()}
    mult = (design["region"].map(region_mult).fillna(1.0).to_numpy()
            * np.array([batch_mult.get(int(b), 1.0) if b == b else 1.0
                        for b in design["batch"].astype("Float64").to_numpy(
                            dtype=float, na_value=np.nan)]))
    tau = np.where(treated, (spec.effect + spec.effect_growth * np.nan_to_num(event))
                   * mult[:, None] + unit_effect[:, None], 0.0)
    y0 = (level[:, None] + trend[:, None] * (years - years[0])[None, :]
          + year_effect[None, :] + noise)

    base = design.loc[np.repeat(np.arange(n_u), n_t)].reset_index(drop=True)
    frame = pd.DataFrame({"unit": base["unit"], "time": np.tile(years, n_u)})
    frame["cohort"] = base["cohort"]
    frame["d"] = treated.reshape(-1).astype(int)
    for col in ("adcode", "name_cn", "province", "region", "is_capital", "is_municipality",
                "is_capital_or_municipality", "batch"):
        frame[col] = base[col]
    frame["event_time"] = pd.array(event.reshape(-1), dtype="Float64").astype("Int64")
    frame["y"] = (y0 + tau).reshape(-1)
    return frame, pd.Series(y0.reshape(-1), index=frame.index, name="y_untreated")
