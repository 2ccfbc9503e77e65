#!/usr/bin/env python3
"""Writes a synthetic replay timeline for the throughput benchmark, the same for the same seed.

    python3 benches/make_timeline.py --events 1000000 --seed 7 > /tmp/timeline.jsonl

Cases open by email (half), on X (a third) and on Facebook Messenger, one every few minutes around
the clock for as long as the number of events asks. Each case lives the life of docs/stories.md: the
customer writes, central answers on the channel, hands the case to a regional team, which accepts it;
the customer writes again, the region answers, proposes a resolution and the customer confirms it.
One case in ten is left with the region after the handoff for days, until the ladder reaches a lead:
those raise alerts. One case in twenty is reopened by the customer. Lines come in time order; the payloads are
built by samples/make_samples.py, in the shapes SES, X, Meta and the case API send.
"""
import argparse
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples"))
from make_samples import BRAND_X, api, meta_message, ses, tweet  # noqa: E402

START = datetime(2026, 1, 5, 0, 0, tzinfo=timezone.utc)
CENTRAL = ("Brand Customer Care", "talk-to-us@brand.example")
REGIONS = [("support-ch", ("Brand Service Schweiz", "support-ch@brand.example")),
           ("support-de", ("Brand Support Deutschland", "support-de@brand.example"))]


def at(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def case_lines(n, opened, rng):
    """The lines of case number `n`, opened at `opened`."""
    region, regional = REGIONS[n % len(REGIONS)]
    channel = ("email", "email", "email", "x", "x", "meta")[n % 6]
    customer = (f"Customer {n}", f"customer{n}@example.net")
    x_user = str(3_000_000_000 + n)
    t = opened
    lines = []

    def later(lo_minutes, hi_minutes):
        nonlocal t
        t += timedelta(minutes=rng.randint(lo_minutes, hi_minutes))
        return at(t)

    subject = f"Order {100000 + n}: parcel arrived damaged"
    first = f"<c{n}-1@mail.example.net>"
    if channel == "email":
        ref = "email:" + first
        lines.append(ses(at(t), f"ses{n:010d}a", customer, [CENTRAL[1]], subject, first))
        lines.append(ses(later(20, 240), f"ses{n:010d}b", CENTRAL, [customer[1]], "Re: " + subject,
                         f"<care-{n}-1@brand.example>", in_reply_to=first, references=[first]))
    elif channel == "x":
        ref = f"x:{4_000_000_000_000 + n * 10}"
        lines.append(tweet(at(t), str(4_000_000_000_000 + n * 10), x_user, f"rider{n}",
                           f"@brand my order {100000 + n} arrived damaged, who can help?"))
        lines.append(tweet(later(5, 120), str(4_000_000_000_000 + n * 10 + 1), BRAND_X, "brand",
                           f"@rider{n} sorry to hear that, we are on it", reply_to=str(4_000_000_000_000 + n * 10),
                           reply_to_user=x_user))
    else:
        ref = f"meta:m_case{n}_1"
        lines.append(meta_message(at(t), str(6_000_000_000_000_000 + n), f"m_case{n}_1",
                                  f"Hello, order {100000 + n} arrived damaged"))
        lines.append(api(later(10, 180), "POST", f"/cases/{quote(ref, safe='')}/reply",
                         {"channel": "facebook", "note": "answered in Messenger"}))
    path = "/cases/" + quote(ref, safe="")
    lines.append(api(later(30, 600), "POST", path + "/handoff", {"to_team": region, "note": "needs a repair"}))
    if n % 10 == 9:
        # Handed off and forgotten until the ladder reaches a lead, days later.
        lines.append(api(later(3 * 1440, 12 * 1440), "POST", path + "/accept", {"team": region}))
    else:
        lines.append(api(later(30, 900), "POST", path + "/accept", {"team": region}))
    lines.append(api(later(30, 600), "POST", path + "/reply", {"channel": "facebook" if channel == "meta" else channel, "note": "called the customer"}))
    if channel == "email":
        second = f"<c{n}-2@mail.example.net>"
        lines.append(ses(later(60, 1440), f"ses{n:010d}c", customer, [regional[1]], "Re: " + subject, second,
                         in_reply_to=f"<care-{n}-1@brand.example>", references=[first]))
        lines.append(ses(later(30, 600), f"ses{n:010d}d", regional, [customer[1]], "Re: " + subject,
                         f"<{region}-{n}-1@brand.example>", in_reply_to=second, references=[first, second]))
    elif channel == "x":
        lines.append(tweet(later(60, 1440), str(4_000_000_000_000 + n * 10 + 2), x_user, f"rider{n}",
                           "@brand any news on the repair?", reply_to=str(4_000_000_000_000 + n * 10 + 1),
                           reply_to_user=BRAND_X))
        lines.append(api(later(30, 600), "POST", path + "/reply", {"channel": "x", "note": "sent the tracking"}))
    else:
        lines.append(meta_message(later(60, 1440), str(6_000_000_000_000_000 + n), f"m_case{n}_2",
                                  "Any news on the repair?"))
        lines.append(api(later(30, 600), "POST", path + "/reply", {"channel": "facebook", "note": "sent the tracking"}))
    lines.append(api(later(60, 2880), "POST", path + "/resolve", {"note": "replacement shipped"}))
    if n % 20 == 4:
        lines.append(api(later(60, 2880), "POST", path + "/confirm", {"confirmed": False}))
        lines.append(api(later(60, 1440), "POST", path + "/reply", {"channel": "facebook" if channel == "meta" else channel, "note": "second parcel"}))
        lines.append(api(later(60, 2880), "POST", path + "/resolve", {"note": "second parcel arrived"}))
    lines.append(api(later(60, 2880), "POST", path + "/confirm", {"confirmed": True}))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="lines to write (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lines = []
    opened = START
    n = 0
    while len(lines) < args.events:
        lines.extend(case_lines(n, opened, rng))
        opened += timedelta(seconds=rng.randint(30, 300))
        n += 1
    lines.sort(key=lambda line: line["at"])  # stable: a case's lines keep their order within a second
    out = sys.stdout
    for line in lines[: args.events]:
        out.write(json.dumps(line, separators=(",", ":")))
        out.write("\n")
    print(f"{min(args.events, len(lines)):,} lines, {n:,} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
