"""``python -m bayes_resil.calibrate``: do the intervals cover? (a Hydra application).

The whole analysis repeated on ``calibration.replications`` simulated panels (seeds
``calibration.seed + r``), every estimate with a simulated truth scored against it, and, with
``calibration.sbc.simulations`` > 0, simulation-based calibration of each Bayesian model. Same
config groups as the main app (``data``, ``index``, ``model``, ``prior``, ``sampler``, ``freq``)
plus ``calibration``; see :mod:`bayes_resil.calibration` and the README, "Calibration".
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .calibration.runner import run_calibration
from .errors import InputError
from .parallel import register_resolvers

register_resolvers()


@hydra.main(config_path="pkg://bayes_resil.conf", config_name="calibrate", version_base="1.3")
def _entry(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    try:
        run_calibration(cfg, out_dir, launch_dir=Path(hc.runtime.cwd),
                        overrides=list(hc.overrides.task))
    except InputError as exc:
        print(f"\nbayes_resil.calibrate: error: {exc}\n(study directory: {out_dir})",
              file=sys.stderr)
        sys.exit(exc.exit_code)


def main() -> None:
    """Console entry point."""
    _entry()


if __name__ == "__main__":
    main()
