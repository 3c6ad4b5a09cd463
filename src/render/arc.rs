//! The emotional arc: an SVG line of each module's emotion and intensity,
//! generated at build time so it shows on a projector, in print and with
//! JavaScript off.

use std::fmt::Write;

use super::values::ModuleCard;
use crate::html::escape;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 64.0;
/// Above this many modules, labels would overlap: only numbers are shown.
const MAX_LABELLED: usize = 16;

/// The SVG for `modules` (those without an intensity are left out); empty
/// when no module has one.
pub(super) fn svg(modules: &[ModuleCard], language: &str) -> String {
    let points: Vec<(usize, &ModuleCard, i64)> = modules
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.intensity.map(|v| (i + 1, m, v.clamp(1, 5))))
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let (label, level) = if language == "fr" {
        ("Arc émotionnel de la masterclass", "intensité")
    } else {
        ("Emotional arc of the masterclass", "intensity")
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |i: usize| {
        if points.len() == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let y_of = |v: i64| TOP + plot_h * (5 - v) as f64 / 4.0;
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (x_of(i), y_of(p.2)))
        .collect();

    let mut svg = String::with_capacity(2048 + points.len() * 256);
    let _ = write!(
        svg,
        "<svg class=\"arc\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMidYMid meet\">"
    );
    let _ = write!(svg, "<title>{label}</title>");
    for v in 1..=5 {
        let y = y_of(v);
        let _ = write!(
            svg,
            "<line class=\"arc-grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"currentColor\" stroke-opacity=\"0.15\"/>\
             <text class=\"arc-axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"currentColor\" font-size=\"12\">{v}</text>",
            WIDTH - RIGHT,
            LEFT - 10.0,
            y + 4.0
        );
    }
    let curve = smooth_path(&xy);
    let baseline = TOP + plot_h;
    if let (Some(first), Some(last)) = (xy.first(), xy.last()) {
        let _ = write!(
            svg,
            "<path class=\"arc-area\" d=\"{curve} L {:.1} {baseline:.1} L {:.1} {baseline:.1} Z\" fill=\"var(--accent, #e9c46a)\" fill-opacity=\"0.25\" stroke=\"none\"/>",
            last.0, first.0
        );
    }
    let _ = write!(
        svg,
        "<path class=\"arc-line\" d=\"{curve}\" fill=\"none\" stroke=\"var(--primary, #7b3f1d)\" stroke-width=\"3\" stroke-linecap=\"round\"/>"
    );
    let labelled = points.len() <= MAX_LABELLED;
    let number_step = points.len().div_ceil(MAX_LABELLED).max(1);
    for (i, ((number, module, value), (x, y))) in points.iter().zip(&xy).enumerate() {
        let emotion = module.emotion.as_deref().unwrap_or("");
        let tooltip = if emotion.is_empty() {
            format!("{number}. {} ({level} {value}/5)", module.title)
        } else {
            format!("{number}. {} — {emotion} ({level} {value}/5)", module.title)
        };
        let _ = write!(
            svg,
            "<circle class=\"arc-point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"var(--primary, #7b3f1d)\" stroke=\"var(--surface, #fff)\" stroke-width=\"2\"><title>{}</title></circle>",
            escape(&tooltip)
        );
        if labelled || i % number_step == 0 {
            let _ = write!(
                svg,
                "<text class=\"arc-value\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"currentColor\" font-size=\"12\" font-weight=\"600\">{number}</text>",
                baseline + 20.0
            );
        }
        if labelled && !emotion.is_empty() {
            let _ = write!(
                svg,
                "<text class=\"arc-label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"currentColor\" font-size=\"13\">{}</text>",
                baseline + 40.0,
                escape(emotion)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A smooth curve through the points (Catmull-Rom turned into cubic Béziers),
/// flattened so it never overshoots the 1..5 band.
fn smooth_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M {x0:.1} {y0:.1}");
    let (min_y, max_y) = (TOP, HEIGHT - BOTTOM);
    for i in 0..points.len().saturating_sub(1) {
        let p0 = points[i.saturating_sub(1)];
        let p1 = points[i];
        let p2 = points[i + 1];
        let p3 = points[(i + 2).min(points.len() - 1)];
        let c1 = (
            p1.0 + (p2.0 - p0.0) / 6.0,
            (p1.1 + (p2.1 - p0.1) / 6.0).clamp(min_y, max_y),
        );
        let c2 = (
            p2.0 - (p3.0 - p1.0) / 6.0,
            (p2.1 - (p3.1 - p1.1) / 6.0).clamp(min_y, max_y),
        );
        let _ = write!(
            d,
            " C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            c1.0, c1.1, c2.0, c2.1, p2.0, p2.1
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str, emotion: &str, intensity: Option<i64>) -> ModuleCard {
        ModuleCard {
            title: title.into(),
            href: String::new(),
            summary: None,
            duration: None,
            emotion: Some(emotion.into()),
            intensity,
            steps: 0,
        }
    }

    #[test]
    fn one_point_per_module_with_intensity() {
        let svg = svg(
            &[
                card("A", "curiosité", Some(2)),
                card("B", "x", None),
                card("C <b>", "espoir", Some(5)),
            ],
            "fr",
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("curiosité"));
        assert!(svg.contains("C &lt;b&gt;"));
        assert!(svg.contains("viewBox"));
    }

    #[test]
    fn empty_without_intensities() {
        assert!(svg(&[card("A", "x", None)], "en").is_empty());
    }
}
