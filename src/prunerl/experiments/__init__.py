"""Experiments: run configs, run directories, checkpoints; the train / resume / evaluate runner."""

from prunerl.experiments.config import RunConfig, apply_overrides, build_config, load_yaml
from prunerl.experiments.run_dir import RunDir
from prunerl.experiments.runner import TrainingInterrupted, evaluate, resume, train

__all__ = [
    "RunConfig",
    "RunDir",
    "TrainingInterrupted",
    "apply_overrides",
    "build_config",
    "evaluate",
    "load_yaml",
    "resume",
    "train",
]
