"""How many cores a job uses and how many jobs a machine runs at once (sweep launchers).

A job's sampler runs ``min(chains, cores)`` chains in parallel (``sampler.cores``; ``null`` means
one core per chain). The local joblib launcher runs ``cpu_count // cores_per_job`` jobs at once
(at least one), so chains x jobs never exceeds the cores; with ``sampler.cores=1`` a sweep runs
one job per core instead. ``submitit_local`` asks for ``job_cores`` CPUs per task and
``submitit_slurm`` for ``cluster_cores`` (the same without the local machine's cap). The
functions are registered as OmegaConf resolvers ``bayes_resil.<name>`` so the launcher configs
in ``conf/hydra/launcher`` can use them.
"""

from __future__ import annotations

import os
import warnings

from omegaconf import OmegaConf


def available_cores() -> int:
    """CPU cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def cluster_cores(chains: int, cores: int | None = None) -> int:
    """CPUs to request per cluster task: ``sampler.cores`` or one per chain (not capped by the
    machine that submits, whose cores say nothing about the compute nodes)."""
    want = int(cores) if cores not in (None, "None", "null") else int(chains)
    return max(1, min(want, int(chains)))


def job_cores(chains: int, cores: int | None = None, *, available: int | None = None) -> int:
    """Cores one job's sampler uses: ``cluster_cores`` capped by this machine."""
    return max(1, min(cluster_cores(chains, cores), available or available_cores()))


def parallel_jobs(chains: int, cores: int | None = None, *, available: int | None = None) -> int:
    """Jobs to run at once so that jobs x cores-per-job <= available cores (at least 1)."""
    available = available or available_cores()
    return max(1, available // job_cores(chains, cores, available=available))


#: the variables BLAS libraries read for their thread count when they load
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_share(jobs: int, available: int | None = None) -> int:
    """BLAS threads per worker when ``jobs`` workers share the machine: the cores over the
    workers, at least one. OpenBLAS threads of one worker spinning against another's cost a
    Bayesian replication ~14% of its time on 2 cores (measured: 4 replications of
    ``model=staggered``, 2 workers, 89.5 s vs 77.3 s, user CPU -16%); the test suite's
    BLAS-heavy tests ran 15-25x slower than alone before the same limit."""
    return max(1, (available or available_cores()) // max(1, jobs))


def cap_blas_threads(threads: int):
    """This process's BLAS threads: the libraries loaded so far through threadpoolctl (the
    returned limiter; a context manager that restores them), those loaded later (scipy's own
    OpenBLAS) through :data:`BLAS_THREAD_VARIABLES` (unless the user has set them)."""
    from threadpoolctl import threadpool_limits

    for var in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(var, str(threads))
    return threadpool_limits(threads)


def register_resolvers() -> None:
    """Register the resolvers (idempotent) and silence Hydra's schema-matching notice for our
    launcher presets, which deliberately complete the plugins' configs of the same name."""
    for name, fn in (("bayes_resil.job_cores", job_cores),
                     ("bayes_resil.parallel_jobs", parallel_jobs),
                     ("bayes_resil.cluster_cores", cluster_cores)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
    warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/(joblib|submitit_\w+)' is "
                            r"validated against ConfigStore schema", category=UserWarning)
