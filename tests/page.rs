//! The case page of `/l/<token>`: the velcro case (docs/stories.md, story 1) replayed through the library,
//! rendered, and opened in a real headless Chromium at phone (390 x 844) and desktop (1280 x 800)
//! size. The screenshots stay under `target/screenshots/` and the pages under `target/page/`.
//! Without Chromium the browser tests fail and say how to install it.

#[path = "common/browser.rs"]
mod browser;

#[path = "common/cases.rs"]
mod cases;
#[allow(dead_code)] // the on-disk DynamoDB Local of the fault tests
#[path = "common/dynamodb.rs"]
mod dynamodb;
#[allow(dead_code)]
#[path = "common/service.rs"]
mod service;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use baton::domain::case::Case;
use baton::domain::clock::ClockKind;
use baton::domain::ids::Channel;
use baton::domain::policy::Policy;
use baton::handler;
use baton::link::{Allows, Grant, LinkSigner};
use baton::notify::Collect;
use baton::page::{self, AckForm, CaseView, HEADERS};
use baton::replay::{self, Options};
use baton::service::Baton;
use baton::store::Cases;
use baton::store::dynamo::DynamoStore;
use cases::acknowledgements;
use jiff::Timestamp;

/// The velcro replay's email case (the one the tweets were merged into) at the replay's end.
fn velcro() -> (Case, Arc<Policy>, Timestamp) {
    let policy = Arc::new(Policy::default_policy());
    let text = std::fs::read_to_string(format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = replay::parse(&text, &policy).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut out = Vec::new();
    let report = runtime.block_on(replay::run(&lines, policy.clone(), &Options::default(), &mut out)).unwrap();
    let case = report
        .cases
        .into_iter()
        .find(|c| c.channels().contains(&Channel::Email) && c.merged_into().is_none())
        .expect("the velcro email case");
    (case, policy, report.until.unwrap())
}

/// The ack grant of the case's most escalated running clock.
fn ack_grant(case: &Case, now: Timestamp) -> Grant {
    let view = CaseView::of(case, &Policy::default_policy(), now);
    let clock = view.clock(ClockKind::HandoffAccept).or(view.clocks.first()).expect("a running clock");
    let level = match clock.standing {
        page::view::Standing::Breached { level } => level,
        _ => 0,
    };
    Grant::ack(case.id().clone(), clock.kind, level, now)
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp is in the target directory").to_path_buf()
}

fn write_page(name: &str, html: &str) -> PathBuf {
    let path = target_dir().join("page").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, html).unwrap();
    path
}

#[test]
fn the_page_shows_what_a_lead_needs_and_loads_nothing_from_anywhere() {
    let (case, policy, now) = velcro();
    let grant = ack_grant(&case, now);
    let html = page::case_page(&case, &policy, now, &grant);
    let view = CaseView::of(&case, &policy, now);

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(&format!("<h1>{}</h1>", case.id())));
    assert_eq!(view.owner, "support-ch");
    assert!(
        html.contains("support-ch (CH) since <time datetime=\"2026-04-23T08:10:00Z\">Thu 23 Apr 10:10 CEST</time>")
    );
    assert!(view.waiting_since.is_some() && html.contains("Customer waiting"));
    for clock in &view.clocks {
        assert!(html.contains(&format!("<code>{}</code>", clock.kind.as_str())), "{:?}", clock.kind);
        assert!(html.contains(&clock.due.local), "{}", clock.due.local);
    }
    assert!((view.follow_ups, view.channel_hops, view.public_posts) >= (1, 2, 2), "{view:?}");
    for (n, word) in
        [(view.follow_ups, "follow-up"), (view.channel_hops, "channel hop"), (view.public_posts, "public post")]
    {
        assert!(html.contains(&format!("{n} {word}")), "{n} {word}");
    }
    assert!(html.contains("channel hop from x"), "the marks are on the timeline");
    // The timeline is in the owning team's local time: central's first message on Sunday evening.
    assert!(html.contains("Sun 12 Apr 19:42 CEST"));
    // Time held per team: central, social? no: the tweets were merged; central and support-ch.
    let teams: Vec<&str> = view.held.iter().map(|h| h.team.as_str()).collect();
    assert!(teams.contains(&"central") && teams.contains(&"support-ch"), "{teams:?}");
    assert_eq!(html.matches("<svg").count(), 2, "the bars and the strip");
    assert!(html.contains("Time held per team"));
    // The ack form, posting back to this URL (no action attribute), and only on an ack grant.
    assert!(html.contains("<form method=\"post\">"));
    assert!(html.contains("name=\"snooze\" value=\"week\""));
    let view_only = page::case_page(&case, &policy, now, &Grant::view(case.id().clone(), now));
    assert!(!view_only.contains("<form"));

    // Self-contained: no script, no stylesheet, image, font or frame from anywhere; the only URL is
    // the SVG namespace.
    for html in [&html, &view_only] {
        for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", " src=", " href="] {
            assert!(!html.contains(forbidden), "{forbidden}");
        }
        let urls: Vec<&str> = html.match_indices("http").map(|(i, _)| &html[i..(i + 30).min(html.len())]).collect();
        assert!(
            urls.iter().all(|u| u.starts_with("http://www.w3.org/2000/svg") || u.starts_with("http-equiv")),
            "{urls:?}"
        );
        assert!(html.contains(&format!("content=\"{}\"", page::META_CONTENT_SECURITY_POLICY)));
    }
}

#[test]
fn the_403_and_result_pages_say_nothing_of_the_token() {
    let signer = LinkSigner::new(b"a link secret of thirty-two bytes!!").unwrap();
    let token = signer.sign(&Grant::view("BTN-EGT6FK".parse().unwrap(), Timestamp::UNIX_EPOCH));
    let forbidden = page::forbidden_page();
    assert!(forbidden.contains("This link does not work") && !forbidden.contains(&token[..20]));
    let form = AckForm::parse(b"name=Ana+Lead&snooze=week").unwrap();
    let done = page::ack_done_page("BTN-EGT6FK", ClockKind::HandoffAccept, 1, &form);
    assert!(done.contains("Ana Lead acknowledged <code>handoff_accept</code> level 1 of BTN-EGT6FK, snoozed 1 week."));
    let refused = page::ack_refused_page("BTN-EGT6FK", "handoff_accept is not running");
    assert!(refused.contains("handoff_accept is not running") && refused.contains("Nothing was changed"));
    let escaped = page::ack_done_page(
        "BTN-EGT6FK",
        ClockKind::HandoffAccept,
        1,
        &AckForm { name: "<b>x</b>".into(), snooze: page::SnoozeChoice::Week },
    );
    assert!(escaped.contains("&lt;b&gt;x&lt;/b&gt;"), "maud escapes what people type");
}

#[test]
fn the_velcro_case_page_in_chromium_at_phone_and_desktop_width() {
    let (case, policy, now) = velcro();
    let path = write_page("case.html", &page::case_page(&case, &policy, now, &ack_grant(&case, now)));
    write_page("case-view.html", &page::case_page(&case, &policy, now, &Grant::view(case.id().clone(), now)));
    write_page("forbidden.html", &page::forbidden_page());
    let url = format!("file://{}", path.display());
    let shots = target_dir().join("screenshots");

    for (name, width, height) in [("phone", 390, 844), ("desktop", 1280, 800)] {
        let browser = browser::launch(width, height);
        let tab = browser::open(&browser, &url, (width, height));
        let viewport = browser::eval(&tab, "[window.innerWidth, window.innerHeight]");
        assert_eq!(viewport, serde_json::json!([width, height]), "{name} viewport");
        // Nothing wider than the screen: no sideways scrolling on a phone.
        let scroll_width = browser::eval(&tab, "document.documentElement.scrollWidth").as_u64().unwrap();
        assert!(scroll_width <= u64::from(width), "{name}: the page is {scroll_width} px wide");
        // The charts are there and drawn at a readable size.
        let charts = browser::eval(
            &tab,
            "[...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect().width)",
        );
        let charts: Vec<f64> = serde_json::from_value(charts).unwrap();
        assert_eq!(charts.len(), 2, "{name}: {charts:?}");
        assert!(charts.iter().all(|w| *w >= 300.0), "{name}: charts {charts:?} wide");
        // Nothing was loaded but the document itself, and its policy forbids loading anything.
        assert_eq!(browser::eval(&tab, "performance.getEntriesByType('resource').length"), 0);
        let csp = browser::eval(&tab, "document.querySelector('meta[http-equiv=Content-Security-Policy]').content");
        assert!(csp.as_str().unwrap().starts_with("default-src 'none'"), "{csp}");
        let text = browser::text(&tab);
        assert!(text.contains(case.id().as_str()) && text.contains("Acknowledge"), "{name}");
        // The text a lead reads first is at least 14 px.
        let font = browser::eval(&tab, "parseFloat(getComputedStyle(document.querySelector('dl.facts dd')).fontSize)");
        assert!(font.as_f64().unwrap() >= 14.0, "{name}: {font}");

        let shot = shots.join(format!("case-{name}.png"));
        browser::screenshot(&tab, &shot);
        assert_eq!(browser::png_size(&shot), (width, height), "{}", shot.display());
        browser::screenshot_full(&tab, width, &shots.join(format!("case-{name}-full.png")));
    }
}

/// An HTTP/1.1 server on a loopback port that answers each request with `respond(method, path,
/// body)`: `(status line, page)`, sent with the pages' [`HEADERS`]. One request per connection.
fn listen(respond: impl Fn(&str, &str, Vec<u8>) -> (String, String) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut parts = request_line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, html) = respond(method, path, body);
            let mut response = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", html.len());
            for (name, value) in HEADERS {
                response += &format!("{name}: {value}\r\n");
            }
            response += "\r\n";
            let _ = stream.write_all(response.as_bytes()).and_then(|_| stream.write_all(html.as_bytes()));
        }
    });
    address
}

/// A stand-in for the `/l/{token}` route on a loopback port, as far as the browser can tell: `GET`
/// verifies the token and answers the case page, `POST` reads the form and answers the result page,
/// a bad token answers 403. It records nothing: the DynamoDB end-to-end test below goes through the
/// real handler.
fn serve(case: Case, policy: Arc<Policy>, now: Timestamp, signer: LinkSigner) -> String {
    listen(move |method, path, body| {
        let grant = path.strip_prefix("/l/").and_then(|token| signer.verify(token, now).ok());
        let (status, html) = match (method, grant) {
            (_, None) => ("403 Forbidden", page::forbidden_page()),
            ("GET", Some(grant)) => ("200 OK", page::case_page(&case, &policy, now, &grant)),
            ("POST", Some(grant)) => match (grant.allows, AckForm::parse(&body)) {
                (Allows::Ack { clock, level }, Ok(form)) => {
                    ("200 OK", page::ack_done_page(case.id().as_str(), clock, level, &form))
                }
                (Allows::Ack { .. }, Err(e)) => {
                    let view = CaseView::of(&case, &policy, now);
                    ("400 Bad Request", page::render_case(&view, &grant, Some(&e)))
                }
                (Allows::View, _) => ("403 Forbidden", page::forbidden_page()),
            },
            _ => ("405 Method Not Allowed", page::forbidden_page()),
        };
        (status.to_string(), html)
    })
}

#[test]
fn the_ack_form_is_filled_and_posted_back_in_chromium_and_a_bad_link_is_refused() {
    let (case, policy, now) = velcro();
    let signer = LinkSigner::new(b"a link secret of thirty-two bytes!!").unwrap();
    let grant = ack_grant(&case, now);
    let token = signer.sign(&grant);
    let address = serve(case.clone(), policy, now, signer);
    let browser = browser::launch(390, 844);

    let text = browser::submit_ack_form(&browser, &format!("{address}/l/{token}"), "Ana Lead", "week");
    let Allows::Ack { clock, level } = grant.allows else { unreachable!() };
    assert!(
        text.contains(&format!("Ana Lead acknowledged {clock} level {level} of {}, snoozed 1 week.", case.id())),
        "{text}"
    );

    // One character changed: the 403 page, which does not repeat the token.
    let mut altered = token.clone().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let tab = browser::open(&browser, &format!("{address}/l/{altered}"), (390, 844));
    let text = browser::text(&tab);
    assert!(text.contains("This link does not work") && !text.contains(&altered), "{text}");
}

/// The real `/l/{token}` handler over `store` on a loopback port, at the fixed instant `now`.
fn serve_handler(
    runtime: tokio::runtime::Handle,
    store: DynamoStore,
    policy: Arc<Policy>,
    signer: LinkSigner,
    now: Timestamp,
) -> String {
    listen(move |method, path, body| {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .unwrap();
        let response = runtime.block_on(handler::link::handle(&store, &policy, &signer, &request, now));
        (response.status().to_string(), response.into_body())
    })
}

/// End to end: the velcro story replayed into DynamoDB Local, the case's ack link opened in
/// Chromium through the real handler, the form filled and submitted; the clock is acknowledged in
/// the table under the name typed. Opening the link again (as a mail scanner would) changes nothing.
#[test]
fn an_ack_link_acknowledges_the_clock_in_dynamodb_from_chromium_and_opening_it_again_changes_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let policy = Arc::new(Policy::default_policy());
    let store = runtime.block_on(dynamodb::store("page-e2e"));
    let text = std::fs::read_to_string(format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = replay::parse(&text, &policy).unwrap();
    let baton = Baton::new(store.clone(), Collect::default(), policy.clone());
    let report = runtime.block_on(replay::run_on(baton, &lines, &Options::default(), &mut Vec::new())).unwrap();
    let id = report
        .cases
        .iter()
        .find(|c| c.channels().contains(&Channel::Email) && c.merged_into().is_none())
        .expect("the velcro email case")
        .id()
        .clone();
    let now = report.until.unwrap();
    let load = || runtime.block_on(store.load_whole(&id)).unwrap().expect("the case in DynamoDB Local");
    let before = load();
    let grant = ack_grant(&before, now);
    let Allows::Ack { clock, level } = grant.allows else { unreachable!() };
    let signer = LinkSigner::new(b"a link secret of thirty-two bytes!!").unwrap();
    let url = format!("/l/{}", signer.sign(&grant));
    let address = serve_handler(runtime.handle().clone(), store.clone(), policy, signer, now);
    let browser = browser::launch(390, 844);

    let text = browser::submit_ack_form(&browser, &format!("{address}{url}"), "Ana Lead", "week");
    assert!(text.contains(&format!("Ana Lead acknowledged {clock} level {level} of {id}, snoozed 1 week.")), "{text}");
    let acked = load();
    assert_eq!(acked.version(), before.version() + 1, "one write");
    assert_eq!(acknowledgements(&acked), [(clock, level, "link:Ana Lead".to_string())]);
    assert!(acked.clock(clock).and_then(|c| c.snooze.as_ref()).is_some(), "{clock} snoozed");

    // The link again, as a mail scanner or the lead would open it: the page, nothing changed.
    let tab = browser::open(&browser, &format!("{address}{url}"), (390, 844));
    let page_text = browser::text(&tab);
    assert!(page_text.contains(id.as_str()) && page_text.contains("acknowledged"), "{page_text}");
    browser::screenshot(&tab, &target_dir().join("screenshots").join("case-acknowledged-phone.png"));
    let again = load();
    assert_eq!((again.version(), again.timeline().len()), (acked.version(), acked.timeline().len()));
}
