"""Experiments: run configs, run directories, checkpoints; the train / resume / evaluate runner,
and the gated pruning loop on run directories (``prune_run``)."""

from prunerl.experiments.config import RunConfig, apply_overrides, build_config, load_yaml
from prunerl.experiments.prune_session import PruneInterrupted, prune_run, resume_prune
from prunerl.experiments.run_dir import RunDir
from prunerl.experiments.runner import TrainingInterrupted, evaluate, resume, train

__all__ = [
    "PruneInterrupted",
    "RunConfig",
    "RunDir",
    "TrainingInterrupted",
    "apply_overrides",
    "build_config",
    "evaluate",
    "load_yaml",
    "prune_run",
    "resume",
    "resume_prune",
    "train",
]
