"""The names of the priors the models use, and which ones are unitless or hierarchical layers.

Kept apart from :mod:`.priors` (which imports PyMC) so that the config schema
(:mod:`bayes_resil.schema`) can list them when the configs are composed.
"""

from __future__ import annotations

#: the prior names the models use, and what they govern
PRIOR_NAMES = {
    "intercept": "grand mean of the unit levels",
    "unit_sd": "spread of the unit effects (robust design: of the integrated city levels)",
    "time_effect": "time effects (zero-sum; a fixed wide scale makes them fixed effects)",
    "beta": "coefficients of the (standardised) controls",
    "mundlak": "unit-level coefficients on the unit means of treatment and controls (robust "
               "design: on the city characteristics in the means of the city levels and trends)",
    "effect": "treatment effect, or the mean of the group effects",
    "effect_spread": "spread of group effects / step size of the event-time random walk",
    "noise_sd": "residual standard deviation (the scale, for Student-t errors); in the robust "
                "design the sd of the transitory within-city noise",
    "trend_sd": "robust design: sd of the city-specific linear trends (over the whole panel)",
    "walk_sd": "robust design: sd of the yearly steps of the within-city random walk",
    "covariate_year": "robust design: how the year effects depend on each city characteristic "
                      "(model.covariate_years), per sd of the characteristic",
    "scale_sd": "robust design: sd of the log city error scales (unitless, never scaled)",
    "noise_df": "degrees of freedom of Student-t errors (model.likelihood=student_t); unscaled",
    "first_stage": "instrument coefficient in the IV first stage",
    "mediator_path": "effect of treatment on the mediator (a-path)",
    "outcome_path": "effect of the mediator on the outcome (b-path)",
    "correlation": "IV: the error correlation rho, as (rho + 1) / 2 on (0, 1); unitless",
}

#: hierarchical layers: the family of values drawn around a location and a scale that the
#: model gives (only the family and its shape parameters are set in the prior config)
LAYERS = {
    "group_effect": "design=twfe hetero_region / hetero_batch: group effects around their mean",
    "cell_effect": "design=twfe staggered: ATT(g,t) cells around cohort + event-time means",
    "walk_step": "design=twfe event_study: steps of the event-time random walk",
    "unit_level": "design=twfe: unit levels around their correlated-random-effect means",
}

#: the layers' family unless the prior config says otherwise, and the correlation's prior
LAYER_DEFAULT = {"dist": "Normal"}
CORRELATION_DEFAULT = {"dist": "Beta", "alpha": 2.0, "beta": 2.0}

#: priors on quantities without the outcome's units (never scaled by its sd)
UNSCALED = {"noise_df", "scale_sd", "correlation"}
