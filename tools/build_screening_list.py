"""Convert OFAC's SDN list (from ../shared/data) into the U.S. pack's screening list.

    python tools/build_screening_list.py [--source ../shared/data/ofac_sdn/sdn_2024-05-03.csv]

Reads OFAC's SDN.CSV layout with ``read_ofac_sdn`` and writes the canonical screening-list CSV
(entry_id, name, aliases, program, entity_type, source) to
rules/us/screening/ofac_sdn_2024-05-03.csv with ``write_screening_list``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from screening.rulepack.screening_list import read_ofac_sdn, write_screening_list

DEFAULT_SOURCE = Path("../shared/data/ofac_sdn/sdn_2024-05-03.csv")
DEFAULT_TARGET = Path("rules/us/screening/ofac_sdn_2024-05-03.csv")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="OFAC sdn.csv to convert")
    parser.add_argument("--out", type=Path, default=DEFAULT_TARGET, help="screening-list CSV to write")
    args = parser.parse_args()
    frame = read_ofac_sdn(args.source)
    write_screening_list(frame, args.out)
    print(f"wrote {frame.height} entries to {args.out}")


if __name__ == "__main__":
    main()
