"""Run exported policies with numpy alone (imports no torch): what a small device runs.

from prunerl.runtime import Policy
policy = Policy.load("policy.npz")
action = policy.act(obs)
"""

from prunerl.runtime.format import FORMAT, HEADS, VERSION
from prunerl.runtime.policy import Policy, load_policy

__all__ = ["FORMAT", "HEADS", "VERSION", "Policy", "load_policy"]
