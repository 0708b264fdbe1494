"""The Hydra config groups of bayes_resil (YAML), typed by :mod:`bayes_resil.schema`, whose
dataclasses are registered here so that every composition of these configs finds them."""

from bayes_resil.schema import register

register()
