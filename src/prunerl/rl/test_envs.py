"""Test environments shipped with prunerl (registered under the ``prunerl/`` namespace).

Filled in by the spaces work (distractor features, invalid actions); kept importable now so
``check_env_id`` can register them.
"""
