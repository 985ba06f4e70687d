"""Make the AMU report in docs/amu/ from a generated, Voss-shaped history, the way an admin
would: `org import`, `history import`, then `report amu`, into a throwaway SQLite database;
and its pages as PNG (poppler's `pdftoppm`), so anyone can see it without running the code.

    python -m bench.docs_amu [--out docs/amu] [--quarter 2025Q3] [--language nn]

Same seed, same report. Last line: `pages=N reports=N seconds=S`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.docs_charts import PER_YEAR
from bench.generated_history import generate, history_csv, organisation, organisation_csv
from bot.cli.main import main as cli


def sick_leave_csv(quarter: str, seed: int) -> str:
    """Made-up sick leave for the quarter, in the municipal range (4-11 %), and the sector's."""
    year, number = quarter.upper().split("Q")
    rng = random.Random(seed)
    lines = ["year;quarter;unit;percent", f"{year};{number};sektor;7,1"]
    for unit in organisation():
        lines.append(f"{year};{number};{unit.code};{rng.uniform(4, 11):.1f}".replace(".", ","))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/amu"))
    parser.add_argument("--quarter", default="2025Q3")
    parser.add_argument("--language", default="nn", choices=("nn", "nb", "en"))
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    history = list(generate(seed=args.seed, per_year=PER_YEAR))
    args.out.mkdir(parents=True, exist_ok=True)
    pdf = args.out / f"amu-{args.quarter}.pdf"
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "history.csv").write_text(history_csv(history), encoding="utf-8")
        (folder / "organisation.csv").write_text(organisation_csv(), encoding="utf-8")
        (folder / "sick-leave.csv").write_text(
            sick_leave_csv(args.quarter, args.seed), encoding="utf-8"
        )
        os.environ.update(
            DATABASE_URL=f"sqlite:///{folder / 'avvik.db'}",
            AVVIK_ENV_FILE=os.devnull,
            AVVIK_LOG_LEVEL="WARNING",
        )
        for command in (
            ["history", "import", str(folder / "history.csv")],
            ["org", "import", str(folder / "organisation.csv")],
            ["sickleave", "import", str(folder / "sick-leave.csv")],
        ):
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                if cli(command) != 0:
                    raise SystemExit(f"python -m bot {' '.join(command)} failed")
        started = time.perf_counter()
        report = ["report", "amu", "--quarter", args.quarter, "--language", args.language]
        if cli([*report, "--out", str(pdf)]) != 0:
            raise SystemExit("python -m bot report amu failed")
        seconds = time.perf_counter() - started
    pages = 0
    if shutil.which("pdftoppm"):
        for old in args.out.glob(f"amu-{args.quarter}-page-*.png"):
            old.unlink()
        prefix = args.out / f"amu-{args.quarter}-page"
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(prefix)], check=True)
        pages = len(list(args.out.glob(f"amu-{args.quarter}-page-*.png")))
    else:
        print("pdftoppm not found (apt-get install poppler-utils): no PNG pages")
    print(f"pages={pages} reports={len(history)} seconds={seconds:.2f}")


if __name__ == "__main__":
    main()
