//! The hot potato made visible: time held per team as a horizontal bar chart (a bar per team, its
//! time written beside it), and who held the case when as one strip of bands across the case's life.
//! Both are inline SVG drawn with plotters' SVG backend. They are drawn 360 units wide, the width of
//! a small phone, so their text reads at its size there; the page scales them to its column.

use plotters::backend::SVGBackend;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::view::{Band, Held};

/// The charts' drawing width: a 360-pixel phone shows them at their size.
const WIDTH: u32 = 360;
const MARGIN: i32 = 8;

/// A color per team, in the order the page lists teams (see [`team_colors`]). Dark enough for
/// white text and distinct for the common forms of color blindness (Okabe-Ito, darkened).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 94, 158),
    RGBColor(196, 98, 0),
    RGBColor(0, 128, 96),
    RGBColor(163, 62, 122),
    RGBColor(86, 86, 86),
    RGBColor(150, 120, 0),
];
const INK: RGBColor = RGBColor(24, 24, 27);
const MUTED: RGBColor = RGBColor(82, 82, 91);
const TRACK: RGBColor = RGBColor(228, 228, 231);

/// The color of each team, by its place in `teams`.
pub fn team_colors(teams: &[&str]) -> Vec<(String, String)> {
    teams
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let RGBColor(r, g, b) = PALETTE[i % PALETTE.len()];
            (t.to_string(), format!("#{r:02x}{g:02x}{b:02x}"))
        })
        .collect()
}

fn color_of(team: &str, teams: &[&str]) -> RGBColor {
    let i = teams.iter().position(|t| *t == team).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

fn text(size: f64, color: RGBColor, h: HPos, bold: bool) -> TextStyle<'static> {
    let font = ("sans-serif", size).into_font();
    let font = if bold { font.style(FontStyle::Bold) } else { font };
    font.color(&color).pos(Pos::new(h, VPos::Top))
}

/// One bar per team, longest first: the team's name, its time (and "holds it now"), and a bar on a
/// track of the longest time. `teams` orders the colors.
pub fn held_bars(held: &[Held], teams: &[&str]) -> Result<String, String> {
    const ROW: i32 = 50;
    let height = (ROW * held.len().max(1) as i32 + MARGIN) as u32;
    let longest = held.iter().map(|h| h.seconds).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let track = WIDTH as i32 - 2 * MARGIN;
        for (i, h) in held.iter().enumerate() {
            let top = MARGIN + ROW * i as i32;
            let name = if h.current { format!("{} (holds it now)", h.team) } else { h.team.clone() };
            root.draw(&Text::new(name, (MARGIN, top), text(19.0, INK, HPos::Left, h.current)))
                .map_err(|e| e.to_string())?;
            root.draw(&Text::new(h.human.clone(), (WIDTH as i32 - MARGIN, top), text(19.0, INK, HPos::Right, true)))
                .map_err(|e| e.to_string())?;
            let bar_top = top + 22;
            let length = ((track as i64 * h.seconds) / longest).max(3) as i32;
            root.draw(&Rectangle::new([(MARGIN, bar_top), (MARGIN + track, bar_top + 16)], TRACK.filled()))
                .map_err(|e| e.to_string())?;
            let color = color_of(&h.team, teams);
            root.draw(&Rectangle::new([(MARGIN, bar_top), (MARGIN + length, bar_top + 16)], color.filled()))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The case's life as one strip, a band per stretch a team held it, from `start` to `end`
/// (labelled with their local readings). `teams` orders the colors.
pub fn ownership_strip(bands: &[Band], start: (i64, &str), end: (i64, &str), teams: &[&str]) -> Result<String, String> {
    const HEIGHT: u32 = 64;
    let (from, to) = (start.0, end.0.max(start.0 + 1));
    let track = (WIDTH as i32 - 2 * MARGIN) as i64;
    let x = |t: i64| MARGIN + ((t.clamp(from, to) - from) * track / (to - from)) as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        root.draw(&Rectangle::new([(MARGIN, 6), (WIDTH as i32 - MARGIN, 34)], TRACK.filled()))
            .map_err(|e| e.to_string())?;
        for band in bands {
            let (x0, x1) = (x(band.from), x(band.to).max(x(band.from) + 2));
            let color = color_of(&band.team, teams);
            root.draw(&Rectangle::new([(x0, 6), (x1, 34)], color.filled())).map_err(|e| e.to_string())?;
            // A white seam where one team hands the case to the next.
            root.draw(&Rectangle::new([(x0, 6), (x0 + 1, 34)], WHITE.filled())).map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(start.1.to_string(), (MARGIN, 42), text(16.0, MUTED, HPos::Left, false)))
            .map_err(|e| e.to_string())?;
        root.draw(&Text::new(end.1.to_string(), (WIDTH as i32 - MARGIN, 42), text(16.0, MUTED, HPos::Right, false)))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
