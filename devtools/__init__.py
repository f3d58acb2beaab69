"""Development tooling shared by the benchmark and the tests: synthetic frames, a running app server,
and the benchmark itself (`python -m fer.benchmark`). Needs the dev requirements; the `fer` library
never imports it at run time."""
