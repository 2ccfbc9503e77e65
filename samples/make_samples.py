#!/usr/bin/env python3
"""Writes the sample timelines in samples/ (run from anywhere: python3 samples/make_samples.py).

Each line is {"at", "source", "payload"}: `ses` payloads are SES receipt-rule Lambda events (headers
only), `x` payloads X Account Activity bodies, `meta` payloads Meta page webhook bodies, and `api`
payloads case API calls. Names and ids are invented; shapes follow the platforms' documentation.
"""
import json
import os
from datetime import datetime, timezone
from email.utils import format_datetime

HERE = os.path.dirname(os.path.abspath(__file__))
BRAND_X = "1000000000000000001"
BRAND_PAGE = "100000000000001"
CAPTURE = "baton@inbound.brand.example"


def utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ses(at, ses_id, sender, to, subject, message_id, in_reply_to=None, references=(), cc=(), dmarc="PASS"):
    dt = utc(at)
    headers = [
        {"name": "Return-Path", "value": f"<{sender[1]}>"},
        {"name": "Received", "value": f"from mail.example (mail.example [192.0.2.10]) by inbound-smtp.eu-west-1.amazonaws.com with SMTP id {ses_id} for {CAPTURE}; {format_datetime(dt)}"},
        {"name": "From", "value": f"{sender[0]} <{sender[1]}>"},
        {"name": "To", "value": ", ".join(to)},
    ]
    if cc:
        headers.append({"name": "Cc", "value": ", ".join(cc)})
    headers += [
        {"name": "Subject", "value": subject},
        {"name": "Date", "value": format_datetime(dt)},
        {"name": "Message-ID", "value": message_id},
    ]
    if in_reply_to:
        headers.append({"name": "In-Reply-To", "value": in_reply_to})
    if references:
        headers.append({"name": "References", "value": " ".join(references)})
    headers += [
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "Content-Type", "value": "multipart/alternative; boundary=\"000000000000b1c2d3\""},
    ]
    verdict = lambda s: {"status": s}
    event = {
        "Records": [{
            "eventVersion": "1.0",
            "eventSource": "aws:ses",
            "ses": {
                "mail": {
                    "timestamp": iso(dt),
                    "source": sender[1],
                    "messageId": ses_id,
                    "destination": [CAPTURE],
                    "headersTruncated": False,
                    "headers": headers,
                    "commonHeaders": {
                        "returnPath": sender[1],
                        "from": [f"{sender[0]} <{sender[1]}>"],
                        "date": format_datetime(dt),
                        "to": list(to),
                        "messageId": message_id,
                        "subject": subject,
                    },
                },
                "receipt": {
                    "timestamp": iso(dt),
                    "processingTimeMillis": 412,
                    "recipients": [CAPTURE],
                    "spamVerdict": verdict("PASS"),
                    "virusVerdict": verdict("PASS"),
                    "spfVerdict": verdict("PASS"),
                    "dkimVerdict": verdict("PASS"),
                    "dmarcVerdict": verdict(dmarc),
                    "dmarcPolicy": "reject",
                    "action": {
                        "type": "Lambda",
                        "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:baton-email-ingest",
                        "invocationType": "Event",
                    },
                },
            },
        }]
    }
    return {"at": at, "source": "ses", "payload": event}


def tweet(at, tweet_id, user_id, screen_name, text, reply_to=None, reply_to_user=None):
    dt = utc(at)
    mentions = [{"screen_name": "brand", "name": "Brand", "id": int(BRAND_X), "id_str": BRAND_X, "indices": [0, 6]}] if "@brand" in text else []
    body = {
        "for_user_id": BRAND_X,
        "tweet_create_events": [{
            "created_at": dt.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "id": int(tweet_id),
            "id_str": tweet_id,
            "text": text,
            "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
            "truncated": False,
            "in_reply_to_status_id": int(reply_to) if reply_to else None,
            "in_reply_to_status_id_str": reply_to,
            "in_reply_to_user_id": int(reply_to_user) if reply_to_user else None,
            "in_reply_to_user_id_str": reply_to_user,
            "in_reply_to_screen_name": None,
            "user": {"id": int(user_id), "id_str": user_id, "name": screen_name, "screen_name": screen_name,
                     "location": None, "protected": False, "verified": False},
            "is_quote_status": False,
            "entities": {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []},
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": "en",
            "timestamp_ms": str(int(dt.timestamp() * 1000)),
        }],
    }
    return {"at": at, "source": "x", "payload": body}


def meta_message(at, sender, mid, text):
    ms = int(utc(at).timestamp() * 1000)
    body = {
        "object": "page",
        "entry": [{
            "id": BRAND_PAGE,
            "time": ms + 350,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": BRAND_PAGE},
                "timestamp": ms,
                "message": {"mid": mid, "text": text},
            }],
        }],
    }
    return {"at": at, "source": "meta", "payload": body}


def api(at, method, path, body=None):
    return {"at": at, "source": "api", "payload": {"method": method, "path": path, "body": body or {}}}


def write(name, lines):
    with open(os.path.join(HERE, name), "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")


def main():
    CUSTOMER = ("Max Muster", "max.muster@example.ch")
    CENTRAL = ("Brand Customer Care", "talk-to-us@brand.example")
    SUBJECT = "Velcro fasteners on my suit failed after one year"
    M1 = "<CAFvelcro1-q8Z@mail.example.ch>"
    M2 = "<care-20260421-0902@brand.example>"
    M3 = "<CAFvelcro2-k3P@mail.example.ch>"
    M4 = "<care-20260423-0810@brand.example>"
    M5 = "<care-20260423-0812@brand.example>"
    M6 = "<CAFvelcro3-z7W@mail.example.ch>"
    RIDER_X = "2244994945"

    write("velcro.jsonl", [
        # 12 Apr: the long complaint to talk-to-us@, with his country in the mail.
        ses("2026-04-12T17:42:10Z", "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g01", CUSTOMER, [CENTRAL[1]], SUBJECT, M1),
        # 21 Apr: public tweets, the brand's social team answers on X.
        tweet("2026-04-21T07:15:00Z", "1914600000000000001", RIDER_X, "max_rides",
              "@brand don't you answer customer complaints at all? it's 8 days now."),
        tweet("2026-04-21T07:40:00Z", "1914600000000000002", BRAND_X, "brand",
              "@max_rides Sorry we missed your message, are you sending your request to talk-to-us@...?",
              reply_to="1914600000000000001", reply_to_user=RIDER_X),
        tweet("2026-04-21T07:52:00Z", "1914600000000000003", RIDER_X, "max_rides", "@brand yes, on Apr 12",
              reply_to="1914600000000000002", reply_to_user=BRAND_X),
        tweet("2026-04-21T08:05:00Z", "1914600000000000004", BRAND_X, "brand",
              "@max_rides great, can you send us a direct message with your info so we can follow up",
              reply_to="1914600000000000003", reply_to_user=RIDER_X),
        # The social team links his X account to the email case: one customer, one case.
        api("2026-04-21T08:20:00Z", "POST", "/cases/email:%3CCAFvelcro1-q8Z%40mail.example.ch%3E/link",
            {"channel": "x", "identity": RIDER_X}),
        # 21 Apr: central asks where he writes from (it was in the first mail).
        ses("2026-04-21T09:02:00Z", "p1a2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0", CENTRAL, [CUSTOMER[1]], "Re: " + SUBJECT, M2,
            in_reply_to=M1, references=[M1]),
        # 22 Apr: he answers again, with his town.
        ses("2026-04-22T16:30:00Z", "q2b3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1", CUSTOMER, [CENTRAL[1]], "Re: Re: " + SUBJECT, M3,
            in_reply_to=M2, references=[M1, M2]),
        # 23 Apr: central forwards to the Swiss regional team ...
        ses("2026-04-23T08:10:00Z", "r3c4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2", CENTRAL, ["support-ch@brand.example"], "Fwd: " + SUBJECT, M4,
            in_reply_to=M3, references=[M1, M2, M3]),
        # ... and tells him it was forwarded. Then the regional team stays quiet.
        ses("2026-04-23T08:12:00Z", "s4d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3", CENTRAL, [CUSTOMER[1]], "Re: " + SUBJECT, M5,
            in_reply_to=M3, references=[M1, M2, M3]),
        # 19 May: he follows up. No answer.
        ses("2026-05-19T06:05:00Z", "t5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3w4", CUSTOMER, [CENTRAL[1]], "Re: " + SUBJECT, M6,
            in_reply_to=M5, references=[M1, M5]),
        # 30 May: public tweet, and one more try on Facebook.
        tweet("2026-05-30T09:47:00Z", "1928400000000000001", RIDER_X, "max_rides",
              "yet another week with no answer from regional services of @brand #badproduct"),
        meta_message("2026-05-30T10:03:00Z", "6811234567890123", "m_AbCdEfVelcroFb1xYz",
                     "One more try: my suit's velcro failed, I wrote on Apr 12 and nobody answers."),
    ])

    ANNA = ("Anna Beispiel", "anna.beispiel@example.de")
    SUPPORT_DE = ("Brand Support Deutschland", "support-de@brand.example")
    R1 = "<CAFshoes1-a1@mail.example.de>"
    R2 = "<support-de-20260302-1005@brand.example>"
    ANNA_CASE = "/cases/email:%3CCAFshoes1-a1%40mail.example.de%3E"

    write("retailer.jsonl", [
        ses("2026-03-02T08:12:00Z", "u6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3w4x5", ANNA, [SUPPORT_DE[1]], "Wrong size delivered", R1),
        ses("2026-03-02T09:05:00Z", "v7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3w4x5y6", SUPPORT_DE, [ANNA[1]], "Re: Wrong size delivered", R2,
            in_reply_to=R1, references=[R1]),
        api("2026-03-02T09:30:00Z", "POST", ANNA_CASE + "/resolve", {"note": "exchange shipped"}),
        api("2026-03-03T07:15:00Z", "POST", ANNA_CASE + "/confirm", {"confirmed": True}),
        api("2026-03-03T07:20:00Z", "POST", ANNA_CASE + "/survey", {"channel": "email"}),
        api("2026-03-03T07:25:00Z", "GET", ANNA_CASE),
    ])


if __name__ == "__main__":
    main()
