//! The report page's charts: horizontal bars, a row per figure, in groups under a heading (a team),
//! each bar on a grey track and its value written above its right end. Inline SVG drawn with
//! plotters' SVG backend, as the case page's charts are (`crate::page::chart`), 360 units wide so
//! their text reads at its size on a small phone; the page scales them to its column.

use plotters::backend::SVGBackend;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 360;
const MARGIN: i32 = 8;
const BAR_ROW: i32 = 46;
const HEADING_ROW: i32 = 30;

const INK: RGBColor = RGBColor(24, 24, 27);
const TRACK: RGBColor = RGBColor(228, 228, 231);
/// Bar colors, dark enough to read and distinct for the common forms of color blindness
/// (Okabe-Ito, darkened), as the case page's.
pub const GOOD: RGBColor = RGBColor(0, 128, 96);
pub const FAIR: RGBColor = RGBColor(150, 120, 0);
pub const POOR: RGBColor = RGBColor(180, 40, 40);
pub const BLUE: RGBColor = RGBColor(0, 94, 158);
pub const ORANGE: RGBColor = RGBColor(196, 98, 0);

/// One row of a chart.
#[derive(Debug, Clone)]
pub enum Row {
    /// A group's name, in bold.
    Heading(String),
    /// A bar `share` (0 to 1) of the track long, `label` at its left and `value` at its right.
    Bar { label: String, value: String, share: f64, color: RGBColor },
}

fn text(size: f64, h: HPos, bold: bool) -> TextStyle<'static> {
    let font = ("sans-serif", size).into_font();
    let font = if bold { font.style(FontStyle::Bold) } else { font };
    font.color(&INK).pos(Pos::new(h, VPos::Top))
}

/// The rows as one SVG document.
pub fn bars(rows: &[Row]) -> Result<String, String> {
    let height: i32 =
        MARGIN + rows.iter().map(|r| if matches!(r, Row::Heading(_)) { HEADING_ROW } else { BAR_ROW }).sum::<i32>();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height.max(1) as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let track = WIDTH as i32 - 2 * MARGIN;
        let mut top = MARGIN;
        for row in rows {
            match row {
                Row::Heading(name) => {
                    root.draw(&Text::new(name.clone(), (MARGIN, top + 4), text(18.0, HPos::Left, true)))
                        .map_err(|e| e.to_string())?;
                    top += HEADING_ROW;
                }
                Row::Bar { label, value, share, color } => {
                    root.draw(&Text::new(label.clone(), (MARGIN, top), text(16.0, HPos::Left, false)))
                        .map_err(|e| e.to_string())?;
                    root.draw(&Text::new(value.clone(), (WIDTH as i32 - MARGIN, top), text(16.0, HPos::Right, true)))
                        .map_err(|e| e.to_string())?;
                    let bar_top = top + 20;
                    let length = (f64::from(track) * share.clamp(0.0, 1.0)).round() as i32;
                    root.draw(&Rectangle::new([(MARGIN, bar_top), (MARGIN + track, bar_top + 14)], TRACK.filled()))
                        .map_err(|e| e.to_string())?;
                    root.draw(&Rectangle::new(
                        [(MARGIN, bar_top), (MARGIN + length.max(2), bar_top + 14)],
                        color.filled(),
                    ))
                    .map_err(|e| e.to_string())?;
                    top += BAR_ROW;
                }
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The color of a compliance share: 95% and over good, 80% and over fair, below that poor.
pub fn compliance_color(share: f64) -> RGBColor {
    if share >= 0.95 {
        GOOD
    } else if share >= 0.8 {
        FAIR
    } else {
        POOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_one_svg_with_a_rect_per_bar_and_track() {
        let svg = bars(&[
            Row::Heading("central".into()),
            Row::Bar { label: "first_response".into(), value: "50%".into(), share: 0.5, color: GOOD },
            Row::Bar { label: "next_response".into(), value: "100%".into(), share: 1.0, color: GOOD },
        ])
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("first_response") && svg.contains("50%") && svg.contains("central"));
        // The background, then a track and a bar per row.
        assert_eq!(svg.matches("<rect").count(), 5);
    }
}
