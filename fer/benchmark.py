"""`python -m fer.benchmark [--json PATH] [--quick]`: the speed benchmark (see devtools/benchmark.py).

The benchmark is development tooling: it lives outside the library, beside the tests that share its
frames and app launcher, and needs the dev requirements and a checkout. This entry point keeps the
documented command; nothing in `fer` imports it.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    try:
        from devtools.benchmark import main as benchmark_main  # dev tooling: loaded only when the command runs
    except ImportError as err:
        raise SystemExit(f"python -m fer.benchmark runs from a checkout with the dev requirements ({err})") from None
    return benchmark_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
