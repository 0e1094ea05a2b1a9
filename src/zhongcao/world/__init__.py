"""The simulated world: a generated platform, the simulator and its comparisons."""
