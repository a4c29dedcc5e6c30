"""Core tests run single-threaded: the CI machine has 2 cores shared by many tests."""

import torch

torch.set_num_threads(1)
