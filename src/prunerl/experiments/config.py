"""RunConfig: every choice of one training run in a validated record that round-trips through YAML.

Unknown keys are rejected with the list of valid ones (``extra="forbid"``); ``--set a.b=value``
overrides are applied to the plain dict before validation, with YAML-parsed values.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from prunerl.core import PruningConfig
from prunerl.rl.structured_config import StructuredConfig

GRADUAL_BEGIN, GRADUAL_END = 0.2, 0.75  # default pruning window, as fractions of total_steps
DEFAULT_UPDATE_EVERY = 1000


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvalConfig(_Section):
    """Periodic and final evaluation: deterministic policy, fixed episode seeds."""

    episodes: Annotated[int, Field(gt=0)] = 20  # episodes per evaluation
    every: Annotated[int | None, Field(gt=0)] = None  # env steps apart (None: total / 10)
    seed: Annotated[int, Field(ge=0)] = 10_000  # episode i is reset with seed + i


class CheckpointConfig(_Section):
    """When checkpoints are written and whether they hold the replay buffer."""

    every: Annotated[int | None, Field(gt=0)] = None  # env steps apart (None: total / 10)
    keep_buffer: bool = True  # also save the replay buffer (.npz), for an exact resume


class LoggingConfig(_Section):
    """Console and metrics.csv output."""

    quiet: bool = False  # no progress bar
    every: Annotated[int | None, Field(gt=0)] = None  # rows' env steps apart (None: total/100)


class RunConfig(_Section):
    """One training run: env, algorithm, budget, seed, agent hyperparameters, pruning, outputs."""

    env_id: str  # any registered Gymnasium id
    algo: str  # dqn | ppo | sac | any registered agent
    total_steps: Annotated[int, Field(gt=0)]  # env steps to train for
    seed: Annotated[int, Field(ge=0)] = 0
    # torch intra-op threads while training: 1 is fastest for RL's small networks on CPU
    threads: Annotated[int, Field(ge=1)] = 1
    # flush denormal floats to 0 while training: the same learning, up to 2x faster on some CPUs
    flush_denormal: bool = True
    gym_packages: list[str] = Field(default_factory=list)  # modules that register custom envs
    env_kwargs: dict[str, Any] = Field(default_factory=dict)  # passed to gymnasium.make
    agent: dict[str, Any] = Field(default_factory=dict)  # overrides of the algo's hyperparameters
    pruning: dict[str, Any] | None = None  # PruningConfig fields, `networks`, `structured`
    eval: EvalConfig = Field(default_factory=lambda: EvalConfig())
    checkpoint: CheckpointConfig = Field(default_factory=lambda: CheckpointConfig())
    logging: LoggingConfig = Field(default_factory=lambda: LoggingConfig())

    @model_validator(mode="after")
    def _resolve(self) -> RunConfig:
        """Fill step-dependent defaults and validate the pruning section through the core."""
        total = self.total_steps
        if self.eval.every is None:
            self.eval.every = max(1, total // 10)
        if self.checkpoint.every is None:
            self.checkpoint.every = max(1, total // 10)
        if self.logging.every is None:
            self.logging.every = max(1, total // 100)
        if self.pruning is not None:
            self.pruning = resolve_pruning(self.pruning, total)
        return self

    def pruning_config(self) -> PruningConfig | None:
        """The core's PruningConfig (without `networks`), or None without weight pruning."""
        if self.pruning is None or "method" not in self.pruning:
            return None
        options = {k: v for k, v in self.pruning.items() if k not in ("networks", "structured")}
        return PruningConfig.from_dict(options)

    def structured_config(self) -> StructuredConfig | None:
        """Neuron pruning (`pruning.structured`), or None when no neurons are removed."""
        section = None if self.pruning is None else self.pruning.get("structured")
        return None if section is None else StructuredConfig.from_dict(section)

    def prune_networks(self) -> list[str] | None:
        return None if self.pruning is None else self.pruning.get("networks")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML data (tuples become lists)."""
        data: dict[str, Any] = json.loads(self.model_dump_json())
        return data


WINDOW_KEYS = ("begin_step", "end_step", "update_every", "cut_step")


def without_nulls(section: Any, keys: tuple[str, ...]) -> Any:
    """``section`` without the ``keys`` set to null: null means "the default for this run"
    (so ``--set pruning.end_step=null`` undoes a shipped config's fixed step)."""
    if not isinstance(section, dict):
        return section
    return {k: v for k, v in section.items() if not (k in keys and v is None)}


def resolve_pruning(section: dict[str, Any], total_steps: int) -> dict[str, Any]:
    """Complete a pruning section: default window, then the core's validation and defaults.

    Without explicit steps, gradual schedules run from 20% to 75% of ``total_steps`` (Zhu &
    Gupta 2017 prune early and leave time to recover), a one-shot prune happens at 75%, and
    sparse-from-start methods (static, SET, RigL) update masks until 75%.
    """
    if not isinstance(section, dict):
        raise ValueError(f"pruning must be a mapping of options, got {section!r}")
    valid = sorted([*(f.name for f in fields(PruningConfig)), "networks", "structured"])
    unknown = sorted(set(section) - set(valid))
    if unknown:
        raise ValueError(f"unknown pruning option(s) {unknown}; valid options: {', '.join(valid)}")
    data = without_nulls(section, WINDOW_KEYS)
    structured = data.pop("structured", None)
    if structured is not None:
        structured = resolve_structured(structured, total_steps)
        if not set(data) - {"networks"}:  # neurons only: no weight pruner
            if data:
                raise ValueError(
                    "pruning.networks selects networks for weight pruning, which this section "
                    "does not ask for; for neurons use pruning.structured.networks"
                )
            return {"structured": structured}
    networks = data.pop("networks", None)
    if networks is not None:
        if isinstance(networks, str):
            networks = [networks]
        if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
            raise ValueError(f"pruning.networks must be a list of names, got {networks!r}")
    probe = PruningConfig.from_dict({**data, "end_step": data.get("end_step", total_steps)})
    schedule = probe.schedule_name()
    begin, end = int(GRADUAL_BEGIN * total_steps), max(1, int(GRADUAL_END * total_steps))
    if schedule == "one_shot":
        data.setdefault("begin_step", end)
    elif schedule == "constant":
        data.setdefault("end_step", end)
    else:
        data.setdefault("begin_step", begin)
        data.setdefault("end_step", max(end, int(data["begin_step"]) + 1))
        window = int(data["end_step"]) - int(data["begin_step"])
        data.setdefault("update_every", min(DEFAULT_UPDATE_EVERY, max(1, window // 10)))
    resolved = PruningConfig.from_dict(data).to_dict()
    last = resolved["begin_step"] if schedule == "one_shot" else resolved["end_step"]
    if schedule != "constant" and last > total_steps:
        what = "begin_step" if schedule == "one_shot" else "end_step"
        raise ValueError(
            f"pruning.{what} {last} is beyond total_steps {total_steps}: the target sparsity "
            f"would never be reached; lower {what} or leave it out (--set pruning.{what}=null: "
            "the default, 75% of the run)"
        )
    resolved["networks"] = networks
    if structured is not None:  # hybrid: neurons and weights
        resolved["structured"] = structured
    return resolved


def resolve_structured(section: Any, total_steps: int) -> dict[str, Any]:
    """Complete `pruning.structured` with the same default window as weights (20%-75%)."""
    section = without_nulls(section, WINDOW_KEYS)
    config = StructuredConfig.resolve(section, total_steps, GRADUAL_BEGIN, GRADUAL_END)
    last = config.cut_step if config.cut_step is not None else config.last_update_step()
    if last > total_steps:
        what = "cut_step" if config.cut_step is not None else "end_step"
        raise ValueError(
            f"pruning.structured.{what} {last} is beyond total_steps {total_steps}: the neurons "
            f"would never be cut; lower {what} or leave it out "
            f"(--set pruning.structured.{what}=null: the default, 75% of the run)"
        )
    return config.to_dict()


def format_validation_error(exc: ValidationError, model: type[BaseModel] = RunConfig) -> str:
    """One readable line from pydantic's report: the key, the problem and the valid keys."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(model, err["loc"][:-1])
            parts.append(f"unknown config key {loc!r}; valid keys here: {', '.join(valid)}")
        elif err["type"] == "missing":
            parts.append(f"config key {loc!r} is required")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            where = f"{loc}: " if loc else ""
            parts.append(f"{where}{msg} (got {err.get('input')!r})" if loc else msg)
    return "; ".join(parts)


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    for key in loc:
        annotation = model.model_fields[str(key)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def build_config(data: dict[str, Any]) -> RunConfig:
    """Validate a plain dict into a RunConfig; any problem becomes one ValueError line."""
    if not isinstance(data, dict):
        raise ValueError(f"a run config must be a mapping of keys, got {type(data).__name__}")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(format_validation_error(exc)) from None


SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def shipped_configs() -> list[str]:
    """Names of the example configs shipped with prunerl (``prunerl train --config NAME``)."""
    return sorted(p.stem for p in SHIPPED_CONFIGS.glob("*.yaml"))


def config_path(name: str | Path) -> Path:
    """A config file's path, or the path of a shipped config given by name."""
    p = Path(name)
    if p.is_file():
        return p
    shipped = SHIPPED_CONFIGS / f"{p.stem}.yaml"
    if p.parent == Path(".") and p.suffix in ("", ".yaml") and shipped.is_file():
        return shipped
    raise FileNotFoundError(
        f"config file {str(p)!r} not found; give a YAML path or a shipped config: "
        f"{', '.join(shipped_configs())}"
    )


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file (or shipped config name) into a dict (empty file: empty dict)."""
    p = config_path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"config file {str(p)!r} is not valid YAML ({first})") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {str(p)!r} must hold a mapping of keys")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b=value`` overrides (values parsed as YAML: ``0.9``, ``[64, 64]``, ``null``)."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"--set expects key=value (e.g. agent.learning_rate=3e-4), got {item!r}"
            )
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        *parents, leaf = key.strip().split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ValueError(f"--set {key}: {part!r} is not a section (it holds {child!r})")
            node = child
        node[leaf] = value
    return out
