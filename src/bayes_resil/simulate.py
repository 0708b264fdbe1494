"""Simulated yearbook panel on the real CBEC design, with both potential outcomes kept.

The paper's EPS yearbook data are proprietary, so the default panel is simulated. The design is
real (roster, provinces, regions, capitals, pilot-zone batches, census population and
urbanisation); everything else is drawn from the latent structure below, documented in full in
``docs/simulation.md``. Same seed, same panel, bit for bit.

Latent structure (per city *i*, year *t*, indicator *j*)::

    dev_i        development level: real 2010 urbanisation and log population, capital status,
                 region, plus noise; standardised
    grow_i       city-specific growth: -convergence * dev_i + noise (catch-up growth; this
                 offsets the index's convexity so the untreated index has parallel trends)
    year_jt      common year shocks: a trend, a 2020 shock (partial rebound in 2021), noise
    eps_ijt      idiosyncratic AR(1) noise
    tau_ijt      treatment effect (observed world only): effect_scale * loading_j
                 * batch_mult[b] * region_mult[r] * ramp(t - cohort_i) for t >= cohort_i

    g_ijt = load_j * dev_i + trend_j * s_t * (1 + grow_load_j * grow_i) + year_jt + eps_ijt
            + policy effects (+ tau_ijt)

``g`` is *oriented goodness* (higher = more resilient). It is mapped to yearbook units by the
indicator's transform: ``lognormal`` (``x = exp(mu + scale * g + pop_elast * ln pop_it)``,
levels such as patents or expenditure) or ``logistic`` (``x = lo + (hi - lo) * expit(a + b g)``,
shares and ratios; for a negative indicator ``x`` falls as ``g`` rises). The transform scales are
calibrated (``bench/calibrate_simulation.py``) so that the entropy weights land near Table 1.

The untreated potential outcome uses the same draws with ``tau = 0``; the index of both is
scored with the weights, bounds and ideal points fitted on the observed panel, so
``tau_index = index(observed) - index(untreated)`` is the true effect on the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from .design import published_tables, study_design
from .errors import InputError

#: Index indicators: (name, transform, params, load on dev, trend, treatment loading).
#: lognormal params: (mu, scale, pop_elast); logistic params: (lo, hi, a, b).
#: Calibrated by bench/calibrate_simulation.py (entropy weights near Table 1).
INDICATORS: dict[str, dict] = {
    # resistance & recovery
    "gdp_per_capita": dict(kind="lognormal", mu=10.75, scale=0.35, pop_elast=0.0,
                           load=1.0, trend=1.0, grow_load=0.0, tau=0.0),
    "urban_disposable_income": dict(kind="lognormal", mu=10.15, scale=0.22, pop_elast=0.0,
                                    load=1.0, trend=1.4, grow_load=0.0, tau=0.0),
    "household_savings": dict(kind="logistic", lo=2.0e10, hi=1.2e11, a=2.0, b=0.2,
                              load=0.6, trend=0.6, tau=0.0),
    "registered_unemployed": dict(kind="logistic", lo=1500.0, hi=65000.0, a=3.6, b=1.6,
                                  load=0.5, trend=0.2, tau=0.6),
    "trade_to_gdp": dict(kind="logistic", lo=1.0, hi=95.0, a=-1.2, b=0.15,
                         load=-0.6, trend=0.0, tau=0.0),
    # adaptation & adjustment
    "fiscal_revenue_to_expenditure": dict(kind="logistic", lo=5.0, hi=110.0, a=-0.5, b=0.7,
                                          load=1.0, trend=0.1, tau=0.0),
    "retail_sales": dict(kind="lognormal", mu=14.5, scale=0.34, pop_elast=1.0,
                         load=1.0, trend=0.5, grow_load=0.0, tau=0.0),
    "tertiary_share": dict(kind="logistic", lo=20.0, hi=85.0, a=0.0, b=0.3,
                           load=0.8, trend=1.0, tau=0.0),
    "loan_to_deposit": dict(kind="logistic", lo=30.0, hi=160.0, a=0.2, b=0.6,
                            load=0.4, trend=0.5, tau=0.0),
    "fixed_asset_investment": dict(kind="lognormal", mu=15.0, scale=0.35, pop_elast=1.0,
                                   load=0.8, trend=0.5, tau=0.4),
    # transformation & development
    "patents_granted": dict(kind="lognormal", mu=7.4, scale=0.5, pop_elast=1.0,
                            load=1.2, trend=0.8, tau=1.0),
    "students_per_10k": dict(kind="lognormal", mu=4.6, scale=0.8, pop_elast=0.0,
                             load=1.0, trend=0.3, tau=0.0),
    "science_expenditure": dict(kind="lognormal", mu=10.6, scale=0.22, pop_elast=1.0,
                                load=1.1, trend=0.6, tau=0.8),
    "education_expenditure": dict(kind="lognormal", mu=12.6, scale=0.65, pop_elast=1.2,
                                  load=0.9, trend=0.5, tau=0.6),
}

CONTROLS = ("lngdp", "lnincome", "population", "fiscal", "consumption", "fdi")
MEDIATORS = ("ln_patents", "sci_tech_level", "ln_it_employees", "ln_employment")
#: the mediators with an effect of their own (the others move through index indicators)
OWN_EFFECT_MEDIATORS = ("ln_it_employees", "ln_employment")
POLICIES = ("bdcpz", "bci", "cftz")


@dataclass(frozen=True)
class DesignSpec:
    """The real design a simulated panel is drawn on (roster, years) and its seed: the knobs
    every simulator shares."""

    seed: int = 20250929
    roster: str = "paper283"
    first_year: int = 2010
    last_year: int = 2022


@dataclass(frozen=True)
class SimulationSpec(DesignSpec):
    """Knobs of the simulated panel (the calibrated defaults reproduce the paper's look)."""

    effect_scale: float = 0.95
    batch_mult: dict[int, float] = field(
        default_factory=lambda: {1: 1.6, 2: 1.4, 3: 1.0, 4: 1.0, 5: 1.0}
    )
    region_mult: dict[str, float] = field(
        default_factory=lambda: {"East": 1.15, "Central": 0.75, "West": 1.0}
    )
    ramp_start: float = 0.6
    ramp_slope: float = 0.15
    ramp_cap: float = 1.4
    noise_sd: float = 0.08
    growth_sd: float = 0.15
    convergence: float = 0.95
    noise_rho: float = 0.6
    shock_2020: float = -0.25
    missing_controls_rate: float = 0.182
    missing_outcome_rows: int = 2
    #: effect multipliers of the two mediators that are not index indicators (a 0 makes a
    #: mediator with no effect: the "mechanisms" claim false for it)
    mediator_mult: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(OWN_EFFECT_MEDIATORS, 1.0)
    )


@dataclass(frozen=True)
class SimulatedPanel:
    """The observed panel plus what only a simulation knows."""

    panel: pd.DataFrame  # observed world: design columns, indicators, controls, mediators ...
    untreated: pd.DataFrame  # same rows, indicators and mediators with tau = 0
    tau_latent: pd.DataFrame  # latent treatment effect per indicator / mediator
    spec: SimulationSpec


def ramp(event_time: np.ndarray, spec: SimulationSpec) -> np.ndarray:
    """Dynamic profile: 0 before adoption, then start + slope * e, capped."""
    e = np.asarray(event_time, dtype=float)
    r = np.minimum(spec.ramp_start + spec.ramp_slope * e, spec.ramp_cap)
    return np.where(e >= 0, r, 0.0)


def _interp_share(v2010: np.ndarray, v2020: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Linear in time through the 2010 and 2020 census values, extrapolated outside."""
    slope = (v2020 - v2010) / 10.0
    return v2010[:, None] + slope[:, None] * (years[None, :] - 2010)


def ar1_noise(rng: np.random.Generator, n_units: int, n_times: int, sd: float,
              rho: float) -> np.ndarray:
    """(n_units, n_times) stationary AR(1) series with marginal sd ``sd`` (one per unit)."""
    if not -1 < rho < 1:
        raise InputError(f"an AR(1) autocorrelation (noise_rho) must lie in (-1, 1), got {rho}")
    e = rng.normal(0.0, sd, size=(n_units, n_times))
    out = np.empty_like(e)
    out[:, 0] = e[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, n_times):
        out[:, t] = rho * out[:, t - 1] + scale * e[:, t]
    return out


def _zscore(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def _to_units(g: np.ndarray, p: dict, direction: str, ln_pop: np.ndarray) -> np.ndarray:
    """Map oriented goodness to yearbook units (see module docstring)."""
    if p["kind"] == "lognormal":
        return np.exp(p["mu"] + p["scale"] * g + p["pop_elast"] * ln_pop)
    s = p["a"] + p["b"] * g if direction == "positive" else p["a"] - p["b"] * g
    return p["lo"] + (p["hi"] - p["lo"]) * expit(s)


def simulate_panel(spec: SimulationSpec | None = None) -> SimulatedPanel:
    """Draw the simulated CBEC panel (long format, one row per city-year)."""
    spec = spec or SimulationSpec()
    rng = np.random.default_rng(spec.seed)
    design = study_design(spec.roster)
    years = np.arange(spec.first_year, spec.last_year + 1)
    n_u, n_t = len(design), len(years)
    s_t = (years - spec.first_year) / max(1, years[-1] - years[0])

    # --- city structure ------------------------------------------------------------------
    urb10 = design["urban_share_2010"].to_numpy()
    urb20 = design["urban_share_2020"].to_numpy()
    region_shift = design["region"].map({"East": 0.3, "Central": 0.0, "West": -0.2}).to_numpy()
    dev = _zscore(
        0.6 * _zscore(urb10)
        + 0.4 * _zscore(np.log(design["pop_2010"].to_numpy()))
        + 0.5 * design["is_capital_or_municipality"].to_numpy()
        + region_shift
        + rng.normal(0.0, 0.5, n_u)
    )
    grow = -spec.convergence * dev + rng.normal(0.0, spec.growth_sd, n_u)
    pop = np.exp(
        _interp_share(np.log(design["pop_2010"].to_numpy()), np.log(design["pop_2020"].to_numpy()),
                      years)
    )
    ln_pop = np.log(pop) - np.log(pop).mean()
    urban_share = np.clip(_interp_share(urb10, urb20, years), 0.05, 0.995)

    # --- treatment timing -----------------------------------------------------------------
    cohort = design["cohort"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    event = years[None, :] - cohort[:, None]  # NaN for never treated
    treated_now = np.nan_to_num(event, nan=-1.0) >= 0
    batch = design["batch"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    batch_mult = {int(k): v for k, v in spec.batch_mult.items()}
    b_mult = np.array([batch_mult.get(int(b), 1.0) if b == b else 0.0 for b in batch])
    r_mult = design["region"].map(spec.region_mult).fillna(1.0).to_numpy()
    profile = (
        spec.effect_scale * (b_mult * r_mult)[:, None] * ramp(np.nan_to_num(event, nan=-1), spec)
    )

    # --- concurrent policies (simulated adoption; lists not shipped) -----------------------
    policies = {}
    adopt_years = {"bdcpz": [2015, 2016], "bci": [2014, 2015, 2016],
                   "cftz": [2013, 2015, 2017, 2019, 2020]}
    adopt_shift = {"bdcpz": -1.8, "bci": -0.4, "cftz": -2.3}
    for name in POLICIES:
        p_adopt = expit(1.2 * dev + adopt_shift[name] + 0.8 * treated_now[:, -1])
        chosen = rng.random(n_u) < p_adopt
        year = rng.choice(adopt_years[name], size=n_u)
        policies[name] = (chosen[:, None] & (years[None, :] >= year[:, None])).astype(int)
    policy_effect = {
        "patents_granted": 0.08 * policies["bdcpz"],
        "science_expenditure": 0.06 * policies["bdcpz"],
        "students_per_10k": 0.05 * policies["bci"],
        "retail_sales": 0.05 * policies["bci"],
        "trade_to_gdp": 0.1 * policies["cftz"],
    }

    # --- common year shocks ---------------------------------------------------------------
    shock = np.zeros(n_t)
    shock[years == 2020] = spec.shock_2020
    shock[years == 2021] = 0.5 * spec.shock_2020

    directions = {k: v[1] for k, v in published_tables()["table1_entropy_weights"].items()}
    observed: dict[str, np.ndarray] = {}
    untreated: dict[str, np.ndarray] = {}
    tau_latent: dict[str, np.ndarray] = {}
    for name, p in INDICATORS.items():
        year_jt = 0.05 * rng.normal(size=n_t) + shock * (1.0 if p["trend"] > 0.5 else 0.3)
        g0 = (
            p["load"] * dev[:, None]
            + p["trend"] * s_t[None, :] * (1 + p.get("grow_load", 1.0) * grow[:, None])
            + year_jt[None, :]
            + ar1_noise(rng, n_u, n_t, spec.noise_sd, spec.noise_rho)
            + policy_effect.get(name, 0.0)
        )
        tau = p["tau"] * profile
        untreated[name] = _to_units(g0, p, directions[name], ln_pop)
        observed[name] = _to_units(g0 + tau, p, directions[name], ln_pop)
        tau_latent[name] = tau

    # --- controls (the paper's six). LNGDP, LNINCOME and CONSUMPTION (retail / GDP) are built
    # from index indicators, as in the paper; GDP, income and retail sales do not load on the
    # city-specific growth, so the controls do not proxy for city trends (with retail loading
    # on it, CONSUMPTION biased every controlled estimate: TWFE 0.037 -> 0.028) -------------
    gdp_total = observed["gdp_per_capita"] * pop  # yuan
    fiscal_exp = np.exp(
        np.log(gdp_total) - 2.05 + 0.1 * rng.normal(size=(n_u, n_t)) - 0.15 * dev[:, None]
    ) / 1e4  # 10k yuan
    fdi_share = np.exp(-4.2 + 0.5 * dev[:, None] + 0.6 * rng.normal(size=(n_u, n_t)))
    controls = {
        "lngdp": np.log(observed["gdp_per_capita"]),
        "lnincome": np.log(observed["urban_disposable_income"]),
        "population": urban_share,
        "fiscal": observed["fiscal_revenue_to_expenditure"] / 100.0,
        "consumption": observed["retail_sales"] * 1e4 / gdp_total,
        "fdi": fdi_share,
    }

    # --- mediators (Table 6) --------------------------------------------------------------
    unknown = set(spec.mediator_mult) - set(OWN_EFFECT_MEDIATORS)
    if unknown:
        raise InputError(f"data.simulation.mediator_mult: {sorted(unknown)} are not simulated "
                         f"mediators with their own effect; use {', '.join(OWN_EFFECT_MEDIATORS)}")
    tau_it = 0.35 * float(spec.mediator_mult.get("ln_it_employees", 1.0)) * profile
    tau_emp = 0.25 * float(spec.mediator_mult.get("ln_employment", 1.0)) * profile
    base_it = (-0.4 + 0.9 * dev[:, None] + 0.8 * s_t[None, :] + ln_pop
               + ar1_noise(rng, n_u, n_t, 0.15, 0.7))
    base_emp = (3.6 + 0.5 * dev[:, None] + 0.3 * s_t[None, :] + 0.9 * ln_pop
                + ar1_noise(rng, n_u, n_t, 0.08, 0.7))
    mediators_obs = {
        "ln_patents": np.log(observed["patents_granted"]),
        "sci_tech_level": observed["science_expenditure"] / fiscal_exp,
        "ln_it_employees": base_it + tau_it,
        "ln_employment": base_emp + tau_emp,
    }
    mediators_cf = {
        "ln_patents": np.log(untreated["patents_granted"]),
        "sci_tech_level": untreated["science_expenditure"] / fiscal_exp,
        "ln_it_employees": base_it,
        "ln_employment": base_emp,
    }
    tau_latent["ln_it_employees"] = tau_it
    tau_latent["ln_employment"] = tau_emp

    # --- night-time light (instrument candidate) ------------------------------------------
    light = np.exp(1.6 + 0.7 * dev[:, None] + 0.9 * s_t[None, :] * (1 + grow[:, None])
                   + 0.15 * treated_now * np.nan_to_num(event, nan=0) / 4
                   + ar1_noise(rng, n_u, n_t, 0.12, 0.5))

    # --- assemble long panel --------------------------------------------------------------
    def long(arr: np.ndarray) -> np.ndarray:
        return arr.reshape(-1)

    base = design.loc[np.repeat(np.arange(n_u), n_t)].reset_index(drop=True)
    frame = pd.DataFrame({"unit": base["unit"], "time": np.tile(years, n_u)})
    frame["cohort"] = base["cohort"]
    frame["d"] = long(treated_now).astype(int)
    for col in ("adcode", "name_cn", "province", "region", "is_capital", "is_municipality",
                "is_capital_or_municipality", "batch"):
        frame[col] = base[col]
    frame["event_time"] = pd.array(long(event), dtype="Float64").astype("Int64")
    frame["population_total"] = long(pop).round()
    untreated_frame = frame[["unit", "time"]].copy()
    tau_frame = frame[["unit", "time"]].copy()
    for name in INDICATORS:
        frame[name] = long(observed[name])
        untreated_frame[name] = long(untreated[name])
        tau_frame[name] = long(tau_latent[name])
    for name in CONTROLS:
        frame[name] = long(controls[name])
    for name in MEDIATORS:
        frame[name] = long(mediators_obs[name])
        untreated_frame[name] = long(mediators_cf[name])
    for name in ("ln_it_employees", "ln_employment"):
        tau_frame[name] = long(tau_latent[name])
    frame["light"] = long(light)
    for name in POLICIES:
        frame[name] = long(policies[name])

    # --- missing values -------------------------------------------------------------------
    n = len(frame)
    west = (frame["region"] == "West").to_numpy()
    early = (frame["time"] <= spec.first_year + 1).to_numpy()
    p_miss = spec.missing_controls_rate * (1 + 0.6 * west + 0.5 * early) / 1.25
    row_missing = rng.random(n) < p_miss
    which = rng.choice(
        ["fdi", "fdi", "fdi", "fiscal", "consumption", "lnincome"], size=n
    )
    for name in ("fdi", "fiscal", "consumption", "lnincome"):
        frame.loc[row_missing & (which == name), name] = np.nan
    if spec.missing_outcome_rows:
        rows = rng.choice(n, size=spec.missing_outcome_rows, replace=False)
        frame.loc[rows, "students_per_10k"] = np.nan
        untreated_frame.loc[rows, "students_per_10k"] = np.nan

    return SimulatedPanel(panel=frame, untreated=untreated_frame, tau_latent=tau_frame,
                          spec=spec)
