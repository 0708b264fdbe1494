"""Configs from Python: the CLI's groups, names and values, composed and checked.

The API (:mod:`bayes_resil.api`) takes the same options as the command line. A group is chosen
by name (``model="staggered"``, as ``model=staggered``) or by a mapping whose ``name`` is the
choice and whose other keys are overrides (``sampler={"name": "thin", "draws": 300}``). Other
options are keyword arguments: a bare key is looked up in the groups the call uses
(``draws=300`` is ``sampler.draws=300``; a key found in two groups is an error naming both), a
dotted key goes where it says (``overrides=["model.errors=iid"]``, in Hydra's syntax). Unknown
groups, choices and keys are :class:`~bayes_resil.errors.InputError` naming the valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .errors import InputError
from .schema import check_keys, register

register()

#: the config groups of ``conf/config.yaml``
GROUPS = ("data", "index", "model", "prior", "sampler", "freq")
#: top-level keys a call may set besides its groups
TOP_LEVEL = ("ci_level", "strict", "force")


def compose(overrides: Sequence[str] | None = None, config_name: str = "config") -> DictConfig:
    """The resolved config for Hydra ``overrides`` without running (for notebooks and tests);
    works inside a running Hydra app too."""
    from hydra import compose as _compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    args = dict(config_name=config_name, overrides=list(overrides or []))
    try:
        if GlobalHydra.instance().is_initialized():
            cfg = _compose(**args)
        else:
            with initialize_config_module(config_module="bayes_resil.conf",
                                          version_base="1.3"):
                cfg = _compose(**args)
    except ConfigCompositionException as exc:
        # Hydra's message names the override; its cause says what is wrong with the value
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise InputError(f"{exc}{cause}".replace("\n   ", ";")) from None
    OmegaConf.resolve(cfg)
    check_keys(cfg)
    return cfg


def choices(group: str) -> list[str]:
    """The options of a config group (its YAML files; for ``model``, plugin models too)."""
    folder = resources.files("bayes_resil.conf") / group
    names = [p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")]
    if group == "model":
        from .bayes.registry import plugins

        names += list(plugins())
    return sorted(names)


def _known(cfg: DictConfig, path: str) -> bool:
    node: Any = cfg
    for part in path.split("."):
        if not isinstance(node, DictConfig) or part not in node:
            return False
        node = node[part]
    return True


def _keys_of(cfg: DictConfig, path: str) -> list[str]:
    node = OmegaConf.select(cfg, path) if path else cfg
    return sorted(str(k) for k in node.keys()) if isinstance(node, DictConfig) else []


def _set(cfg: DictConfig, path: str, value: Any) -> None:
    if not _known(cfg, path):
        parent = path.rpartition(".")[0]
        raise InputError(f"unknown option {path!r}; the keys of {parent or 'the config'} are "
                         f"{_keys_of(cfg, parent)}")
    if isinstance(value, Mapping) and isinstance(OmegaConf.select(cfg, path), DictConfig):
        for key, sub in value.items():
            _set(cfg, f"{path}.{key}", sub)
        return
    try:
        OmegaConf.update(cfg, path, list(value) if isinstance(value, tuple) else value,
                         merge=False)
    except OmegaConfBaseException as exc:  # a value of the wrong type or outside its choices
        raise InputError(f"{path}={value!r}: {str(exc).splitlines()[0]}") from None


def _where(cfg: DictConfig, key: str, groups: Sequence[str]) -> str:
    """The full path of a bare option ``key`` among ``groups`` and the top-level keys."""
    found = [f"{g}.{key}" for g in groups if _known(cfg, f"{g}.{key}")]
    if key in TOP_LEVEL:
        found.append(key)
    if len(found) == 1:
        return found[0]
    if found:
        raise InputError(f"option {key!r} is in {len(found)} places ({found}); pass it in "
                         f"its group, e.g. {found[0].split('.')[0]}={{{key!r}: ...}}, or as "
                         f"overrides=['{found[0]}=...']")
    known = {g: _keys_of(cfg, g) for g in groups}
    raise InputError(f"unknown option {key!r}; the options of this call are "
                     + "; ".join(f"{g}: {', '.join(k)}" for g, k in known.items())
                     + f"; and {', '.join(TOP_LEVEL)}")


def build_config(groups: Mapping[str, str | Mapping | None], *, options: Mapping[str, Any],
                 overrides: Sequence[str] = (), scope: Sequence[str] = ()) -> DictConfig:
    """The config of an API call: ``groups`` (choice or mapping per group), Hydra
    ``overrides``, then the keyword ``options`` (bare keys looked up in ``scope``)."""
    hydra_overrides, settings = [], []
    for group, spec in groups.items():
        if group not in GROUPS:
            raise InputError(f"unknown config group {group!r}; groups: {list(GROUPS)}")
        if spec is None:
            continue
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, Mapping):
            raise InputError(f"{group}= takes an option name ({choices(group)}) or a mapping "
                             f"of its keys, not {type(spec).__name__}")
        name = spec.get("name")
        if name is not None:
            if str(name) not in choices(group):
                raise InputError(f"{group}={name!r} is not an option; choose one of "
                                 f"{choices(group)}")
            hydra_overrides.append(f"{group}={name}")
        settings += [(f"{group}.{k}", v) for k, v in spec.items() if k != "name"]
    cfg = compose([*hydra_overrides, *overrides])
    OmegaConf.set_struct(cfg, False)
    for path, value in settings:
        _set(cfg, path, value)
    for key, value in options.items():
        _set(cfg, key if "." in key else _where(cfg, key, scope), value)
    return cfg

