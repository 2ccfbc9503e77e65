//! The pages' HTML: maud templates over the view. One column, phone first; on a wide screen the
//! column widens and the summary and timeline spread out. No JavaScript anywhere.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart;
use super::view::{CaseView, ClockView, RowKind, Standing};
use super::{AckForm, FormError, META_CONTENT_SECURITY_POLICY, SnoozeChoice};
use crate::domain::clock::ClockKind;
use crate::link::{Allows, Grant};

const CSS: &str = r#"
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f4f4f5;color:#18181b;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
main{max-width:52rem;margin:0 auto;padding:.75rem}
header{padding:.5rem .25rem 1rem}
.brand{margin:0;color:#52525b;font-size:.85rem;letter-spacing:.04em;text-transform:uppercase}
h1{margin:.1rem 0 .4rem;font-size:1.75rem;line-height:1.15}
h2{margin:0 0 .75rem;font-size:1.15rem}
section{background:#fff;border:1px solid #e4e4e7;border-radius:12px;padding:1rem;margin:0 0 .9rem}
.tags{display:flex;flex-wrap:wrap;gap:.35rem;margin:0;padding:0;list-style:none}
.tag{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.85rem;background:#e4e4e7;color:#27272a}
.tag.bad{background:#fee2e2;color:#991b1b;font-weight:600}
.tag.warn{background:#fef3c7;color:#92400e;font-weight:600}
.tag.ok{background:#dcfce7;color:#166534}
.tag.mark{background:#ede9fe;color:#5b21b6}
dl.facts{display:grid;grid-template-columns:1fr;gap:.15rem 1rem;margin:0}
dl.facts dt{color:#52525b;font-size:.85rem;margin-top:.45rem}
dl.facts dd{margin:0;font-weight:600}
dl.facts dd small{font-weight:400;color:#52525b}
.ack{border:2px solid #1d4ed8}
.ack p{margin:.25rem 0 .75rem}
label.field{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text]{width:100%;font:inherit;padding:.65rem .75rem;border:1px solid #a1a1aa;border-radius:8px;min-height:44px}
fieldset{border:0;margin:.9rem 0;padding:0}
legend{font-weight:600;margin-bottom:.25rem;padding:0}
.choice{display:flex;align-items:center;gap:.6rem;min-height:44px;padding:.2rem .1rem}
.choice input{width:1.25rem;height:1.25rem;margin:0;flex:none}
button{width:100%;font:inherit;font-weight:700;color:#fff;background:#1d4ed8;border:0;border-radius:8px;padding:.8rem 1rem;min-height:48px}
.error{background:#fee2e2;color:#991b1b;border-radius:8px;padding:.5rem .75rem}
ul.clocks{list-style:none;margin:0;padding:0;display:grid;gap:.6rem}
ul.clocks li{border:1px solid #e4e4e7;border-left:6px solid #a1a1aa;border-radius:8px;padding:.6rem .75rem}
ul.clocks li.breach{border-left-color:#b91c1c}
ul.clocks li.warned{border-left-color:#d97706}
ul.clocks li.running{border-left-color:#16a34a}
.clock-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem .5rem;align-items:baseline}
.clock-name{font-weight:700}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#3f3f46}
.due{margin:.2rem 0 0}
.small{font-size:.875rem;color:#52525b;margin:.15rem 0 0}
figure{margin:0}
figure svg{display:block;width:100%;height:auto;max-width:34rem}
figcaption{font-size:.875rem;color:#52525b;margin:.5rem 0 0}
.legend{display:flex;flex-wrap:wrap;gap:.25rem .9rem;margin:.4rem 0 0;padding:0;list-style:none;font-size:.875rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;vertical-align:-.05rem}
ol.timeline{list-style:none;margin:0;padding:0}
ol.timeline>li{display:grid;grid-template-columns:5.7rem 1fr;column-gap:.4rem;padding:.4rem 0 .4rem .6rem;border-left:3px solid #d4d4d8;margin-left:.25rem}
ol.timeline>li.day{display:block;border:0;margin:.9rem 0 .2rem;padding:0;font-weight:700;font-size:.95rem}
ol.timeline>li.day:first-child{margin-top:0}
ol.timeline>li .owner,ol.timeline>li .tags{grid-column:2}
ol.timeline li.alert{padding-top:.15rem;padding-bottom:.15rem;font-size:.875rem}
ol.timeline li.customer{border-left-color:#2563eb}
ol.timeline li.reply{border-left-color:#16a34a}
ol.timeline li.handoff{border-left-color:#7c3aed}
ol.timeline li.alert{border-left-color:#dc2626;color:#52525b}
ol.timeline time{font-size:.85rem;color:#52525b;font-variant-numeric:tabular-nums;padding-top:.1rem;white-space:nowrap}
.what{font-weight:600}
li.alert .what{font-weight:400}
.owner{font-size:.85rem;color:#52525b}
footer{color:#52525b;font-size:.85rem;padding:0 .25rem 2rem}
@media (min-width:40rem){
 main{padding:1.5rem}
 h1{font-size:2.1rem}
 dl.facts{grid-template-columns:max-content 1fr;align-items:baseline}
 dl.facts dt{margin-top:0}
 ol.timeline>li{grid-template-columns:6rem 1fr;column-gap:1rem}
 input[type=text]{max-width:26rem}
 button{width:auto;padding:.8rem 1.6rem}
 .ack-row{display:flex;gap:1.5rem;align-items:flex-end}
}
"#;

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content=(META_CONTENT_SECURITY_POLICY);
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { main { (body) } }
        }
    }
}

fn time(moment: &super::view::Moment) -> Markup {
    html! { time datetime=(moment.rfc3339) { (moment.local) } }
}

fn standing_tag(clock: &ClockView) -> Markup {
    match clock.standing {
        Standing::Breached { level: 1 } => html! { span.tag.bad { "Breached · level 1" } },
        Standing::Breached { level } => html! { span.tag.bad { "Breached · level " (level) } },
        Standing::Warned => html! { span.tag.warn { "Warning" } },
        Standing::Running => html! { span.tag.ok { "Running" } },
    }
}

pub(super) fn case(view: &CaseView, grant: &Grant, form_error: Option<&FormError>) -> Markup {
    let teams: Vec<&str> = {
        let mut teams: Vec<&str> = view.held.iter().map(|h| h.team.as_str()).collect();
        teams.sort_unstable();
        teams
    };
    let bars = chart::held_bars(&view.held, &teams).unwrap_or_default();
    let strip = chart::ownership_strip(
        &view.bands,
        (view.opened.at.as_second(), &short_date(&view.opened.local)),
        (view.life_end.at.as_second(), &short_date(&view.life_end.local)),
        &teams,
    )
    .unwrap_or_default();
    let breached = view.clocks.iter().filter(|c| matches!(c.standing, Standing::Breached { .. })).count();
    let body = html! {
        header {
            p.brand { "Baton · case" }
            h1 { (view.id) }
            ul.tags {
                li.tag { (view.state) }
                @if breached > 0 { li.tag.bad { (breached) " clock" @if breached > 1 { "s" } " in breach" } }
                li.tag { (view.priority) " priority" }
                @for channel in &view.channels { li.tag { (channel) } }
            }
        }
        section aria-label="Summary" {
            dl.facts {
                dt { "Held by" }
                dd {
                    (view.owner)
                    @if let Some(region) = &view.owner_region { " (" (region) ")" }
                    " since " (time(&view.owner_since))
                    @if !view.closed { " " small { "· " (view.owner_for) } }
                }
                dt { "Customer waiting" }
                dd {
                    @match (&view.waiting_since, &view.waiting_for) {
                        (Some(since), Some(wait)) => { "since " (time(since)) " " small { "· " (wait) } },
                        _ => {
                            "no unanswered message"
                            @if let Some(reply) = &view.last_reply { " " small { "· last reply " (time(reply)) } }
                        },
                    }
                }
                dt { "Opened" }
                dd { (time(&view.opened)) }
                dt { "Marks" }
                dd {
                    @if view.follow_ups + view.channel_hops + view.public_posts == 0 { "none" } @else {
                        ul.tags {
                            @if view.follow_ups > 0 { li.tag.mark { (plural(view.follow_ups, "follow-up")) } }
                            @if view.channel_hops > 0 { li.tag.mark { (plural(view.channel_hops, "channel hop")) } }
                            @if view.public_posts > 0 { li.tag.mark { (plural(view.public_posts, "public post")) } }
                        }
                    }
                }
            }
        }
        @if let Allows::Ack { clock, level } = grant.allows { (ack_form(view, clock, level, form_error)) }
        section aria-labelledby="clocks" {
            h2 #clocks { "Clocks" }
            @if view.clocks.is_empty() { p.small { "No clock is running." } } @else {
                ul.clocks {
                    @for clock in &view.clocks {
                        li.breach[matches!(clock.standing, Standing::Breached { .. })]
                            .warned[clock.standing == Standing::Warned]
                            .running[clock.standing == Standing::Running] {
                            div.clock-head {
                                span.clock-name { (clock.label) " " code { (clock.kind.as_str()) } }
                                (standing_tag(clock))
                            }
                            p.due { "Due " (time(&clock.due)) " " small { "· " (clock.due_text) } }
                            p.small { "On " (clock.team) "'s hours, since " (time(&clock.started)) }
                            @if let Some(next) = &clock.next_step { p.small { "Next: " (next) } }
                            @if let Some(snoozed) = &clock.snoozed { p.small { "Acknowledged: " (snoozed) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="held" {
            h2 #held { "Time held per team" }
            figure {
                (PreEscaped(bars))
                figcaption { "Calendar time each team held the case, up to " (time(&view.life_end)) "." }
            }
            h2 style="margin-top:1.1rem" { "Who held it when" }
            figure {
                (PreEscaped(strip))
                ul.legend {
                    @for (team, color) in chart::team_colors(&teams) {
                        li { span.swatch style=(format!("background:{color}")) {} (team) }
                    }
                }
            }
        }
        section aria-labelledby="timeline" {
            h2 #timeline { "Timeline" }
            @if view.earlier_events > 0 { p.small { (view.earlier_events) " earlier events are not shown." } }
            ol.timeline {
                @for (i, row) in view.timeline.iter().enumerate() {
                    @if i == 0 || view.timeline[i - 1].day != row.day { li.day { (row.day) } }
                    li.customer[row.kind == RowKind::Customer]
                        .reply[row.kind == RowKind::Reply]
                        .handoff[row.kind == RowKind::Handoff]
                        .alert[row.kind == RowKind::Alert] {
                        time datetime=(row.at.rfc3339) title=(row.at.local) { (row.time) }
                        span.what { (row.what) }
                        @if row.owner_changed { span.owner { "held by " (row.owner) } }
                        @if !row.marks.is_empty() {
                            ul.tags { @for mark in &row.marks { li.tag.mark { (mark) } } }
                        }
                    }
                }
            }
            @if view.reminders_hidden > 0 {
                p.small { (plural(view.reminders_hidden as u32, "reminder")) " not shown: each repeats an escalation above." }
            }
        }
        footer {
            p { "As of " (time(&view.as_of)) ". Times are in the local time of the team that held the case." }
            p { "Opening this page changes nothing. The link expires " (grant.expires.strftime("%-d %b %Y")) "." }
        }
    };
    page(&format!("{} · Baton", view.id), body)
}

fn ack_form(view: &CaseView, clock: ClockKind, level: u8, error: Option<&FormError>) -> Markup {
    let running = view.clock(clock);
    html! {
        section.ack aria-labelledby="ack" {
            h2 #ack { "Acknowledge " code { (clock.as_str()) } " level " (level) }
            @if let Some(running) = running {
                p {
                    (running.label) " (on " (running.team) "'s hours): " (running.due_text) ". "
                    "Acknowledging silences this clock's alerts up to level " (level)
                    " for the time you choose; higher levels still fire after it."
                }
                @if let Some(error) = error { p.error role="alert" { (error.to_string()) } }
                form method="post" {
                    label.field for="name" { "Your name" }
                    input #name type="text" name="name" required maxlength=(super::MAX_NAME_CHARS) autocomplete="name";
                    fieldset {
                        legend { "Snooze for" }
                        @for choice in SnoozeChoice::ALL {
                            label.choice {
                                input type="radio" name="snooze" value=(choice.form_value())
                                    checked[choice == SnoozeChoice::BusinessDay];
                                span { (choice.label()) }
                            }
                        }
                    }
                    button type="submit" { "Acknowledge" }
                }
            } @else {
                p { "This clock is no longer running: there is nothing to acknowledge." }
            }
        }
    }
}

pub(super) fn ack_done(case_id: &str, clock: ClockKind, level: u8, form: &AckForm) -> Markup {
    page(
        &format!("Acknowledged · {case_id} · Baton"),
        html! {
            header { p.brand { "Baton · case " (case_id) } h1 { "Acknowledged" } }
            section {
                p {
                    (form.name) " acknowledged " code { (clock.as_str()) } " level " (level) " of " (case_id)
                    ", snoozed " (form.snooze.label().to_lowercase()) "."
                }
                p.small { "Alerts of this clock up to level " (level) " are silenced for that time; higher levels still fire after it." }
                p.small { "Open the case link of the alert to see the case." }
            }
        },
    )
}

pub(super) fn ack_refused(case_id: &str, reason: &str) -> Markup {
    page(
        &format!("Not acknowledged · {case_id} · Baton"),
        html! {
            header { p.brand { "Baton · case " (case_id) } h1 { "Not acknowledged" } }
            section { p.error role="alert" { (reason) } p.small { "Nothing was changed." } }
        },
    )
}

pub(super) fn forbidden() -> Markup {
    page(
        "Link not valid · Baton",
        html! {
            header { p.brand { "Baton" } h1 { "This link does not work" } }
            section {
                p { "The link is not valid: it has expired, or it was changed or cut off on its way to you." }
                p.small { "Nothing was changed. A newer alert about the case carries a fresh link." }
            }
        },
    )
}

fn plural(n: u32, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `Sun 12 Apr 19:42 CEST` → `Sun 12 Apr`, for the strip's ends.
fn short_date(local: &str) -> String {
    local.split(' ').take(3).collect::<Vec<_>>().join(" ")
}
