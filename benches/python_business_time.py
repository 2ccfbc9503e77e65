#!/usr/bin/env python3
"""The other side of `cargo bench --bench business_time`: business time with the PyPI package
business-duration, as support analysts compute it.

Reads `start end` pairs (naive UTC, ISO 8601, whole seconds) and holidays from the files named on the
command line; writes one figure per span (seconds, as an integer) and, last, `elapsed <seconds>`
for the loop alone.
"""
import sys
import time
from datetime import date, datetime

from business_duration import businessDuration


def main():
    spans_file, holidays_file = sys.argv[1], sys.argv[2]
    holidays = [date.fromisoformat(line.strip()) for line in open(holidays_file) if line.strip()]
    spans = [tuple(datetime.fromisoformat(part) for part in line.split()) for line in open(spans_file)]
    opens, closes = datetime.strptime("08:00", "%H:%M").time(), datetime.strptime("17:00", "%H:%M").time()
    out = []
    clock = time.perf_counter()
    for start, end in spans:
        out.append(businessDuration(start, end, opens, closes, weekendlist=[5, 6], holidaylist=holidays, unit="sec"))
    elapsed = time.perf_counter() - clock
    sys.stdout.write("".join(f"{int(seconds)}\n" for seconds in out))
    print(f"elapsed {elapsed:.6f}")


if __name__ == "__main__":
    main()
