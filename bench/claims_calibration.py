"""How often each verdict rule says "supported" when the claim is true, and when it is false.

Simulated panels (the calibration study's simulator, seeds 1000...) on four designs where the
truth of each claim is known by construction, each replication run as the default run does
(``freq=full``, ``model=hetero_region``, 4 x 300 draws after 300 tuning steps), its claims
assessed (:mod:`bayes_resil.claims`) and written to ``<root>/<design>/r<seed>.csv`` as soon as
it is done (a rerun skips the replications already there; memory stays that of one fit per
worker whatever the count):

* ``default``    the default design (every effect claim true)
* ``null``       ``effect_scale=0`` (no effect: the effect, ordering and mechanism claims false)
* ``reversed``   ``region_mult={East: 0.75, Central: 1.15, West: 1.0}`` (region order false)
* ``no_it``      ``mediator_mult.ln_it_employees=0`` (IT employment not a channel: mechanisms
                 false)

    .venv/bin/python bench/claims_calibration.py [--replications 20] [--jobs 2]
        [--designs default,null,reversed,no_it] [--root calibration/claims]

Verdicts are recomputed from the stored lens statuses by the package's current rule
(``claims.verdict.verdict_of``), so a change of the rule is judged on the same panels without
refitting. Prints, per design and claim, the share of each verdict, the share of replications
where the claim is true, and then, pooled over designs, P(supported | true) and P(supported | false)
(and the same for "supported or fragile"); time and peak memory at the end.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

DESIGNS = {
    "default": {},
    "null": {"effect_scale": 0.0},
    "reversed": {"region_mult": {"East": 0.75, "Central": 1.15, "West": 1.0}},
    "no_it": {"mediator_mult": {"ln_it_employees": 0.0, "ln_employment": 1.0}},
}
SAMPLER = {"name": "nutpie", "draws": 300, "tune": 300, "progress": False}


def one(design: str, seed: int, path: str) -> tuple[str, int, float]:
    import logging
    import warnings

    import bayes_resil as br

    for name in ("pymc", "pytensor", "nutpie", "arviz", "bayes_resil"):
        logging.getLogger(name).setLevel(logging.ERROR)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = br.simulate_panel(seed, **DESIGNS[design])
        freq = br.frequentist(panel, freq="full")
        fit = br.fit(panel, model="hetero_region", sampler=SAMPLER, seed=seed)
        table = br.assess_claims(freq, fit)
    table = table.assign(design=design, seed=seed, diagnostics_ok=fit.passed)
    tmp = Path(path).with_suffix(".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(path)
    return design, seed, time.perf_counter() - t0


def _roles_now(rows: pd.DataFrame) -> pd.Series:
    """Lens roles as the current code assigns them. Files written before conditions existed
    named the placebo centre ``replication:placebo`` (evidence; the actual estimate was
    ``replication:placebo:actual``) and gave the IV first stage the evidence role: both are
    conditions now (same statuses)."""
    role = rows["role"].copy()
    old = rows.groupby(["design", "seed"])["lens"].transform(
        lambda s: s.eq("replication:placebo:actual").any())
    role[old & rows["lens"].eq("replication:placebo")] = "condition"
    role[rows["lens"].eq("first_stage")] = "condition"
    return role


def summarise(root: Path, designs: list[str]) -> pd.DataFrame:
    """One row per (design, seed, claim): the verdict by the current rule from the stored
    lens statuses, and the simulated truth."""
    from bayes_resil.claims.verdict import verdict_of

    # keep_default_na=False: the design named "null" must not read as missing
    frames = [pd.read_csv(f, keep_default_na=False, na_values=[""])
              for d in designs for f in sorted((root / d).glob("r*.csv"))]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    rows["role"] = _roles_now(rows)
    lens_rows = rows[rows["lens"] != "verdict"]
    again = lens_rows.groupby(["design", "seed", "claim"], sort=False).apply(
        lambda g: verdict_of(g["role"].tolist(), g["status"].tolist())[0])
    v = rows[rows["lens"] == "verdict"].copy()
    v["stored_verdict"] = v["verdict"]
    v["verdict"] = [again[(d, s, c)] for d, s, c in zip(v["design"], v["seed"], v["claim"],
                                                          strict=True)]
    v["truth"] = v["simulated_truth"].map({True: True, False: False, "True": True,
                                           "False": False})
    # placebo_null is true exactly when the true att is positive (the claim has the actual
    # estimate outside the placebo draws); files written before the truth said so carry
    # "always true": take baseline_positive's truth of the same panel
    base = v[v["claim"] == "baseline_positive"].set_index(["design", "seed"])["truth"]
    placebo = v["claim"] == "placebo_null"
    v.loc[placebo, "truth"] = [base.get((d, s)) for d, s in
                               zip(v.loc[placebo, "design"], v.loc[placebo, "seed"],
                                   strict=True)]
    return v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--root", default="calibration/claims")
    args = ap.parse_args()
    designs = args.designs.split(",")
    root = Path(args.root)
    todo = []
    for d in designs:
        (root / d).mkdir(parents=True, exist_ok=True)
        for seed in range(args.first_seed, args.first_seed + args.replications):
            path = root / d / f"r{seed}.csv"
            if not path.is_file():
                todo.append((d, seed, str(path)))
    t0 = time.perf_counter()
    print(f"{len(todo)} replication(s) to run on {args.jobs} worker(s)", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, *job) for job in todo]
        for i, fut in enumerate(as_completed(futures), 1):
            d, seed, sec = fut.result()
            print(f"[{i}/{len(todo)}] {d} seed {seed}: {sec:.0f} s", flush=True)
    wall = time.perf_counter() - t0
    v = summarise(root, designs)
    if v.empty:
        print("no replications")
        return
    pd.set_option("display.width", 200)
    shares = (v.groupby(["design", "claim"])["verdict"].value_counts(normalize=True)
              .unstack(fill_value=0.0).round(2))
    shares["true"] = v.groupby(["design", "claim"])["truth"].mean().round(2)
    shares["n"] = v.groupby(["design", "claim"]).size()
    print("\nVerdict shares by design and claim (true: share of panels where the claim is "
          "true)\n")
    print(shares.to_string())
    known = v[v["truth"].notna()]
    rates = known.groupby(["claim", "truth"]).agg(
        n=("verdict", "size"),
        supported=("verdict", lambda s: (s == "supported").mean()),
        supported_or_fragile=("verdict", lambda s: s.isin(["supported", "fragile"]).mean()),
        contradicted=("verdict", lambda s: (s == "contradicted").mean()),
    ).round(2)
    print("\nError rates of the verdict rules (pooled over designs; truth = the simulated "
          "truth of the claim)\n")
    print(rates.to_string())
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20
    print(f"\n{len(v)} verdicts from {v[['design', 'seed']].drop_duplicates().shape[0]} "
          f"panels; wall {wall:.0f} s this call, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
