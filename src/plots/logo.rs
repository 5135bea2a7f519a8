//! Sequence logos: letters A, C, G, U stacked per position with heights
//! from a matrix, the look of WebLogo and logomaker.
//!
//! plotly has no letter glyph that stretches to a height, so each letter is
//! an outline (a few polygons in a unit box) drawn as a layout path shape in
//! data coordinates: a letter scales to any width and height, like a logo's.
//! Hand-written because no Rust plotting crate draws logos.

use plotly::common::{Marker, Mode};
use plotly::layout::{Axis, Shape, ShapeLine, ShapeType};
use plotly::{Plot, Scatter};

use super::layout;

/// The letters of a logo's columns, in column order.
pub const LOGO_BASES: [char; 4] = ['A', 'C', 'G', 'U'];
/// Their colours, as in most RNA logos: A green, C blue, G orange, U red.
const COLORS: [&str; 4] = ["#109648", "#255C99", "#F7B32B", "#D62839"];

/// A sequence logo. Column `i` (drawn at position `first_position + i`)
/// stacks the four letters `LOGO_BASES` with heights `columns[i]`: positive
/// heights above zero, the tallest on top; negative heights below zero, the
/// most negative at the bottom (an importance logo draws there the bases
/// that argue against binding).
///
/// ```
/// use circssnn::plots::sequence_logo;
/// // Position 1: mostly U; position 2: A, with a little C beneath zero.
/// let p = sequence_logo(&[[0.0, 0.0, 0.2, 1.5], [1.0, -0.3, 0.0, 0.0]], 1, "toy", "bits");
/// assert_eq!(p.to_json().matches("\"type\":\"path\"").count(), 4); // four letters drawn
/// ```
pub fn sequence_logo(
    columns: &[[f64; 4]],
    first_position: usize,
    title: &str,
    y_title: &str,
) -> Plot {
    let stack = Stack::of(columns);
    let shapes: Vec<Shape> = stack
        .letters
        .iter()
        .map(|l| {
            let x0 = (first_position + l.column) as f64 - 0.45;
            Shape::new()
                .shape_type(ShapeType::Path)
                .path(letter_path(l.base, x0, l.y0, 0.9, l.height))
                .fill_color(COLORS[l.base])
                .line(ShapeLine::new().width(0.0))
        })
        .collect();
    let hover: Vec<String> = columns
        .iter()
        .map(|col| {
            LOGO_BASES
                .iter()
                .zip(col)
                .map(|(c, h)| format!("{c} {h:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let xs: Vec<f64> = (0..columns.len())
        .map(|i| (first_position + i) as f64)
        .collect();
    let mut plot = Plot::new();
    // Invisible points carry the hover text (shapes have none).
    plot.add_trace(
        Scatter::new(xs, vec![0.0; columns.len()])
            .mode(Mode::Markers)
            .marker(Marker::new().opacity(0.0))
            .hover_text_array(hover)
            .name("heights")
            .show_legend(false),
    );
    let (top, bottom) = (stack.top, stack.bottom);
    let pad = 0.05 * (top - bottom).max(1e-9);
    let last = (first_position + columns.len()) as f64;
    plot.set_layout(
        layout(title, "position", y_title)
            .x_axis(
                Axis::new()
                    .title("position")
                    .range(vec![first_position as f64 - 0.7, last - 0.3]),
            )
            .y_axis(
                Axis::new()
                    .title(y_title)
                    .range(vec![bottom - pad, top + pad])
                    .zero_line(true),
            )
            .shapes(shapes)
            .width((160 + 18 * columns.len()).min(1800))
            .height(320),
    );
    plot
}

/// The same logo as [`sequence_logo`], as a standalone SVG document: the
/// letters as filled paths, a zero line, a y axis with ticks and the
/// positions below. Needs no browser (the `static-export` route does), so
/// `circssnn explain` and `motifs` write it beside every HTML logo.
///
/// ```
/// use circssnn::plots::sequence_logo_svg;
/// let svg = sequence_logo_svg(&[[0.0, 0.0, 0.2, 1.5], [1.0, -0.3, 0.0, 0.0]], 1, "toy", "bits");
/// assert!(svg.starts_with("<svg") && svg.matches("<path").count() == 4);
/// ```
pub fn sequence_logo_svg(
    columns: &[[f64; 4]],
    first_position: usize,
    title: &str,
    y_title: &str,
) -> String {
    use std::fmt::Write;
    // Pixel layout: margins for the title, the y axis and the positions.
    let (left, right, top_m, bottom_m, col_w, plot_h) = (64.0, 16.0, 36.0, 40.0, 20.0, 200.0);
    let stack = Stack::of(columns);
    let (hi, lo) = (stack.top, stack.bottom);
    let span = (hi - lo).max(1e-9) * 1.05;
    let (hi, lo) = (hi + 0.025 * span, lo - 0.025 * span);
    // Wide enough for the title too (~8 px per character at 14 px).
    let width = (left + right + col_w * columns.len() as f64)
        .max(left + right + 8.0 * title.chars().count() as f64);
    let height = top_m + plot_h + bottom_m;
    let y_px = |y: f64| top_m + (hi - y) / (hi - lo) * plot_h;
    let x_px = |col: f64| left + col * col_w;
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"Helvetica, Arial, sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"22\" font-size=\"14\">{}</text>\n",
        esc(title)
    );
    for l in &stack.letters {
        // Letters are outlines in the unit box; map them into pixels (y grows downwards).
        let mut d = String::new();
        for ring in glyph(l.base) {
            for (k, (u, v)) in ring.iter().enumerate() {
                let x = x_px(l.column as f64 + 0.05 + 0.9 * u);
                let y = y_px(l.y0 + v * l.height);
                let _ = write!(d, "{}{x:.2},{y:.2} ", if k == 0 { 'M' } else { 'L' });
            }
            d.push_str("Z ");
        }
        let _ = writeln!(
            svg,
            "<path d=\"{}\" fill=\"{}\"/>",
            d.trim_end(),
            COLORS[l.base]
        );
    }
    let (x0, x1) = (x_px(0.0), x_px(columns.len() as f64));
    let _ = writeln!(
        svg,
        "<line x1=\"{x0}\" x2=\"{x1:.1}\" y1=\"{z:.2}\" y2=\"{z:.2}\" stroke=\"#888\" stroke-width=\"0.8\"/>\n\
         <line x1=\"{x0}\" x2=\"{x0}\" y1=\"{t}\" y2=\"{b}\" stroke=\"black\" stroke-width=\"1\"/>",
        z = y_px(0.0),
        t = top_m,
        b = top_m + plot_h
    );
    for tick in ticks(lo, hi) {
        let y = y_px(tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" x2=\"{x0}\" y1=\"{y:.2}\" y2=\"{y:.2}\" stroke=\"black\"/>\
             <text x=\"{}\" y=\"{:.2}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            x0 - 4.0,
            x0 - 6.0,
            y + 4.0,
            trim_number(tick)
        );
    }
    let every = if columns.len() > 40 {
        10
    } else if columns.len() > 15 {
        5
    } else {
        1
    };
    for i in 0..columns.len() {
        let pos = first_position + i;
        if pos.is_multiple_of(every) || i == 0 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{pos}</text>",
                x_px(i as f64 + 0.5),
                top_m + plot_h + 16.0
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">position</text>\n\
         <text transform=\"translate(16,{:.1}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n</svg>\n",
        (x0 + x1) / 2.0,
        top_m + plot_h + 34.0,
        top_m + plot_h / 2.0,
        esc(y_title)
    );
    svg
}

/// About five round tick values between `lo` and `hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label without float noise (`0.30000000000000004` -> `0.3`).
fn trim_number(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// One letter of a logo: its column, base, bottom edge and height (> 0).
struct Letter {
    column: usize,
    base: usize,
    y0: f64,
    height: f64,
}

/// The letters of a logo, stacked: per column, positive heights above
/// zero with the tallest on top, negative ones below with the most
/// negative at the bottom; and the stack's extent.
struct Stack {
    letters: Vec<Letter>,
    top: f64,
    bottom: f64,
}

impl Stack {
    fn of(columns: &[[f64; 4]]) -> Self {
        let mut letters = Vec::new();
        let (mut top, mut bottom) = (0.0f64, 0.0f64);
        for (column, col) in columns.iter().enumerate() {
            let mut order: Vec<usize> = (0..4)
                .filter(|&b| col[b].is_finite() && col[b] != 0.0)
                .collect();
            // Smallest magnitude nearest zero, so the letter that matters most is the easiest to read.
            order.sort_by(|&a, &b| col[a].abs().total_cmp(&col[b].abs()));
            let (mut up, mut down) = (0.0, 0.0);
            for base in order {
                let h = col[base];
                let y0 = if h > 0.0 { up } else { down + h };
                if h > 0.0 {
                    up += h;
                } else {
                    down += h;
                }
                letters.push(Letter {
                    column,
                    base,
                    y0,
                    height: h.abs(),
                });
            }
            top = top.max(up);
            bottom = bottom.min(down);
        }
        Stack {
            letters,
            top,
            bottom,
        }
    }
}

/// One letter as an SVG path in data coordinates: the outline of
/// `LOGO_BASES[base]` stretched over `[x0, x0 + w] x [y0, y0 + h]`.
fn letter_path(base: usize, x0: f64, y0: f64, w: f64, h: f64) -> String {
    let mut path = String::new();
    for ring in glyph(base) {
        for (k, (u, v)) in ring.iter().enumerate() {
            let cmd = if k == 0 { 'M' } else { 'L' };
            path.push_str(&format!("{cmd}{:.4},{:.5} ", x0 + u * w, y0 + v * h));
        }
        path.push_str("Z ");
    }
    path.trim_end().to_string()
}

/// The outline of a letter in the unit box: closed rings of points. Holes
/// (the A's) wind the other way, so the default non-zero fill leaves them
/// empty while the G's overlapping bar and bowl both fill.
fn glyph(base: usize) -> Vec<Vec<(f64, f64)>> {
    // Points on an ellipse around (0.5, cy), angles in degrees from `from` to `to`.
    let arc = |cy: f64, rx: f64, ry: f64, from: f64, to: f64| -> Vec<(f64, f64)> {
        (0..=24)
            .map(|k| {
                let a = (from + (to - from) * k as f64 / 24.0).to_radians();
                (0.5 + rx * a.cos(), cy + ry * a.sin())
            })
            .collect()
    };
    match base {
        0 => vec![
            vec![
                (0.0, 0.0),
                (0.38, 1.0),
                (0.62, 1.0),
                (1.0, 0.0),
                (0.78, 0.0),
                (0.69, 0.26),
                (0.31, 0.26),
                (0.22, 0.0),
            ],
            vec![(0.63, 0.42), (0.5, 0.78), (0.37, 0.42)],
        ],
        1 | 2 => {
            // The bowl: the outer arc counter-clockwise, the inner one back.
            let end = if base == 1 { 315.0 } else { 340.0 };
            let mut bowl = arc(0.5, 0.5, 0.5, 45.0, end);
            bowl.extend(arc(0.5, 0.28, 0.3, end, 45.0));
            let mut rings = vec![bowl];
            if base == 2 {
                rings.push(vec![
                    (0.55, 0.48),
                    (0.55, 0.32),
                    (0.8, 0.32),
                    (0.8, 0.1),
                    (1.0, 0.1),
                    (1.0, 0.48),
                ]);
            }
            rings
        }
        _ => {
            let mut u = vec![(0.0, 1.0)];
            u.extend(arc(0.4, 0.5, 0.4, 180.0, 360.0));
            u.extend([(1.0, 1.0), (0.78, 1.0)]);
            u.extend(arc(0.4, 0.28, 0.2, 360.0, 180.0));
            u.push((0.22, 1.0));
            vec![u]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twice the signed area of a ring (positive: counter-clockwise).
    fn area2(ring: &[(f64, f64)]) -> f64 {
        (0..ring.len())
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum()
    }

    #[test]
    fn glyphs_fit_the_unit_box_and_holes_wind_the_other_way() {
        for b in 0..4 {
            for ring in glyph(b) {
                assert!(ring.iter().all(|&(u, v)| (-1e-9..=1.0 + 1e-9).contains(&u)
                    && (-1e-9..=1.0 + 1e-9).contains(&v)));
                assert!(area2(&ring).abs() > 0.01, "letter {b}: a degenerate ring");
            }
        }
        let a = glyph(0);
        assert!(
            area2(&a[0]) * area2(&a[1]) < 0.0,
            "the A's hole must wind against its outline"
        );
        let g = glyph(2);
        assert!(
            area2(&g[0]) * area2(&g[1]) > 0.0,
            "the G's bar must fill where it meets the bowl"
        );
    }

    #[test]
    fn svg_logo_draws_the_same_letters_inside_its_frame() {
        let cols = [[0.1, 0.5, -0.2, 0.0], [0.0, 0.0, 0.0, 1.2]];
        let svg = sequence_logo_svg(&cols, 10, "a <b> & c", "importance");
        assert_eq!(svg.matches("<path").count(), 4);
        assert!(svg.contains("a &lt;b&gt; &amp; c") && svg.trim_end().ends_with("</svg>"));
        // Every path point lies inside the drawing.
        let nums: Vec<f64> = svg
            .split("d=\"")
            .skip(1)
            .flat_map(|p| {
                p.split('"')
                    .next()
                    .unwrap()
                    .split(['M', 'L', 'Z', ' ', ','])
                    .filter(|t| !t.is_empty())
                    .map(|t| t.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(nums.iter().all(|&v| (0.0..=300.0).contains(&v)), "{nums:?}");
        assert_eq!(ticks(-0.2, 1.2), vec![0.0, 0.5, 1.0]);
        assert_eq!(ticks(0.0, 2.0), vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(trim_number(0.30000000000000004), "0.3");
    }

    #[test]
    fn letters_stack_in_order_of_height() {
        // Column: A 0.1, C 0.5, G -0.2, U 0; U is not drawn.
        let p = sequence_logo(&[[0.1, 0.5, -0.2, 0.0]], 1, "t", "y");
        let json = p.to_json();
        assert_eq!(json.matches("\"type\":\"path\"").count(), 3);
        // A (0.1) sits on zero, C (0.5) above it; G hangs below zero.
        let a = letter_path(0, 0.55, 0.0, 0.9, 0.1);
        let c = letter_path(1, 0.55, 0.1, 0.9, 0.5);
        let g = letter_path(2, 0.55, -0.2, 0.9, 0.2);
        for path in [a, c, g] {
            assert!(json.contains(&path), "missing {path}");
        }
    }
}
