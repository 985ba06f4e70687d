"""Draw the chart pictures in docs/charts/ from a generated, Voss-shaped history, the way an
admin would: `org import`, `history import`, then `stats --charts`, into a throwaway SQLite
database.

    python -m bench.docs_charts [--out docs/charts] [--year 2025] [--language nn]

Same seed, same pictures. Last line: `charts=4 reports=N`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from bench.generated_history import generate, history_csv, organisation_csv
from bot.cli.main import main as cli

# Voss herad's own totals (DOMAIN.md); the generator spreads them like the real ones.
PER_YEAR = {2024: 1386, 2025: 1317}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/charts"))
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--language", default="nn", choices=("nn", "nb", "en"))
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    history = list(generate(seed=args.seed, per_year=PER_YEAR))
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "history.csv").write_text(history_csv(history), encoding="utf-8")
        (folder / "organisation.csv").write_text(organisation_csv(), encoding="utf-8")
        os.environ.update(
            DATABASE_URL=f"sqlite:///{folder / 'avvik.db'}",
            AVVIK_ENV_FILE=os.devnull,
            AVVIK_LOG_LEVEL="WARNING",
        )
        for command in (
            ["history", "import", str(folder / "history.csv")],
            ["org", "import", str(folder / "organisation.csv")],
            [
                "stats",
                "--year",
                str(args.year),
                "--language",
                args.language,
                "--charts",
                str(args.out),
                "--json",
            ],
        ):
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                if cli(command) != 0:
                    raise SystemExit(f"python -m bot {' '.join(command)} failed")
    charts = sorted(args.out.glob(f"avvik-*-{args.year}.png"))
    for chart in charts:
        print(f"{chart} ({chart.stat().st_size / 1024:.1f} KB)")
    print(f"charts={len(charts)} reports={len(history)}")


if __name__ == "__main__":
    main()
