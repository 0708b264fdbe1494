"""The real design of the CBEC study: city roster, regions, capitals, pilot-zone batches, census.

Facts only (who was treated, when, where, how big); no outcome data. Shipped as package data in
``bayes_resil/design_data`` with their sources and licences (see ``design_data/README.md``).

Roster choices (the paper does not list its 283 cities):

* ``all286``: the 285 units that were prefecture-level cities or municipalities in every year
  2010-2022, plus Haidong (海东, a city from 2013, treated in batch 4) = 286 cities, 99 treated.
* ``paper283`` (default): ``all286`` less three never-treated cities, to match the paper's
  283 = 99 treated + 184 controls. Which three the paper dropped is not stated; we drop the three
  controls with the smallest 2010 census population (Jiayuguan, Karamay, Jinchang), where yearbook
  coverage is thinnest. This is our assumption and is configurable (``data.roster``).

The census file lacks the 2020 urban population of Tonghua, Zhoukou and Urumqi; their 2020
urbanisation is imputed (2010 share plus the province's median change; flagged in
``urban_share_2020_imputed``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from .errors import InputError

#: Calendar year of adoption for each batch used by the study (STUDY.md, shared/data/README.md).
BATCH_YEAR: dict[int, int] = {1: 2015, 2: 2016, 3: 2018, 4: 2019, 5: 2020}

ROSTERS = ("paper283", "all286")


def _read(name: str) -> pd.DataFrame:
    path = resources.files("bayes_resil.design_data") / name
    with resources.as_file(path) as p:
        return pd.read_csv(p)


@cache
def _design_all286() -> pd.DataFrame:
    units = _read("prefecture_units_2010_2022.csv")
    census = _read("census_city_2010_2020.csv")
    keep = (units["is_shi_all_2010_2022"] == 1) | (units["treated_first5_as_dijishi"] == 1)
    u = units.loc[keep].copy()
    # census codes municipalities as xx0100, the roster as xx0000
    u["city_code"] = u["adcode"].where(u["is_municipality"] == 0, u["adcode"] + 100)
    u = u.merge(census, on="city_code", how="left", validate="one_to_one")
    if u["popu_2010"].isna().any():  # pragma: no cover - shipped data is complete
        raise RuntimeError("census join incomplete for the shipped roster")
    treated = u["treated_first5_as_dijishi"] == 1
    batch = u["cbec_batch"].where(treated).astype("Int64")
    out = pd.DataFrame(
        {
            "unit": u["name_en"].to_numpy(),
            "adcode": u["adcode"].to_numpy(),
            "name_cn": u["name_cn"].to_numpy(),
            "province": u["province_en"].to_numpy(),
            "region": u["region3_en"].to_numpy(),
            "is_capital": u["is_provincial_capital"].astype(int).to_numpy(),
            "is_municipality": u["is_municipality"].astype(int).to_numpy(),
            "is_capital_or_municipality": u["is_capital_or_municipality"].astype(int).to_numpy(),
            "batch": batch.to_numpy(),
            "pop_2010": u["popu_2010"].to_numpy(),
            "pop_2020": u["popu_2020"].to_numpy(),
            "urban_share_2010": (u["popu_urban_2010"] / u["popu_2010"]).to_numpy(),
            "urban_share_2020": (u["popu_urban_2020"] / u["popu_2020"]).to_numpy(),
        }
    )
    # three cities (Tonghua, Zhoukou, Urumqi) lack the 2020 urban count in the census file:
    # carry their 2010 share forward by their province's median 2010-2020 change
    change = out["urban_share_2020"] - out["urban_share_2010"]
    fill = change.groupby(out["province"]).transform("median").fillna(change.median())
    out["urban_share_2020_imputed"] = out["urban_share_2020"].isna().astype(int)
    out["urban_share_2020"] = out["urban_share_2020"].fillna(out["urban_share_2010"] + fill)
    out["cohort"] = out["batch"].map(BATCH_YEAR).astype("Int64")
    if out["unit"].duplicated().any():  # pragma: no cover
        raise RuntimeError("unit names in the shipped roster are not unique")
    return out.sort_values("adcode").reset_index(drop=True)


def study_design(roster: str = "paper283") -> pd.DataFrame:
    """One row per city of the CBEC study: identifiers, region, flags, batch, cohort, census.

    ``cohort`` is the first treated calendar year (NA for never treated within 2010-2022;
    batches 6-7 count as never treated).
    """
    if roster not in ROSTERS:
        raise InputError(f"data.roster={roster!r} is not known; use one of {list(ROSTERS)}")
    d = _design_all286()
    if roster == "paper283":
        controls = d[d["cohort"].isna()].nsmallest(3, "pop_2010")
        d = d.drop(index=controls.index)
    return d.reset_index(drop=True).copy()


def published_tables() -> dict:
    """The paper's printed numbers (``published_tables.yaml``, typed from the paper)."""
    import yaml

    path = resources.files("bayes_resil.design_data") / "published_tables.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def published_index_weights() -> dict[str, float]:
    """Table 1 entropy weights as printed, by indicator name."""
    table = published_tables()["table1_entropy_weights"]
    return {name: float(v[2]) for name, v in table.items()}
