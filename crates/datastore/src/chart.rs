//! Server-rendered SVG: bar, line and pie charts of labelled values, and a static map of
//! points. Pure functions of their data; every text is escaped. Each picture carries a title
//! and a description (`role="img"`), and the pages show the same figures as a table beside it.

use std::fmt::Write;

/// A chart kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Line,
    Pie,
}

impl Kind {
    pub fn parse(s: &str) -> Kind {
        match s {
            "line" | "linie" => Kind::Line,
            "pie" | "torte" | "kreis" => Kind::Pie,
            _ => Kind::Bar,
        }
    }
}

/// Escapes text for SVG/XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Eight colours that stay apart for common colour-vision deficiencies (Okabe–Ito).
const COLOURS: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.2}") }
}

fn open(title: &str, desc: &str, w: u32, h: u32) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-labelledby=\"svg-title svg-desc\" font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"svg-title\">{}</title><desc id=\"svg-desc\">{}</desc>",
        esc(title),
        esc(desc)
    )
}

/// A text description of the values: the alternative for readers who cannot see the chart.
pub fn describe(values: &[(String, Option<f64>)]) -> String {
    values
        .iter()
        .map(|(l, v)| format!("{l}: {}", v.map_or_else(|| "–".to_owned(), number)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Renders a chart of labelled values (missing or suppressed values are gaps).
pub fn render(kind: Kind, title: &str, values: &[(String, Option<f64>)]) -> String {
    let desc = describe(values);
    match kind {
        Kind::Pie => pie(title, &desc, values),
        _ => axes(kind, title, &desc, values),
    }
}

fn axes(kind: Kind, title: &str, desc: &str, values: &[(String, Option<f64>)]) -> String {
    let (w, h, left, bottom, top) = (720.0, 360.0, 70.0, 90.0, 20.0);
    let max = values.iter().filter_map(|(_, v)| *v).fold(0.0f64, f64::max).max(1.0);
    let min = values.iter().filter_map(|(_, v)| *v).fold(0.0f64, f64::min);
    let span = max - min;
    let plot_h = h - bottom - top;
    let y = |v: f64| top + plot_h * (max - v) / span;
    let n = values.len().max(1) as f64;
    let step = (w - left - 10.0) / n;
    let mut s = open(title, desc, w as u32, h as u32);
    for i in 0..=4 {
        let v = min + span * f64::from(i) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ccc\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            left - 6.0,
            y(v) + 4.0,
            esc(&number(v)),
            yy = y(v)
        );
    }
    let mut points = Vec::new();
    for (i, (label, v)) in values.iter().enumerate() {
        let x = left + step * i as f64;
        if let Some(v) = v {
            match kind {
                Kind::Bar => {
                    let (top_y, base) = (y(v.max(0.0)), y(v.min(0.0)));
                    let _ = write!(
                        s,
                        "<rect x=\"{:.1}\" y=\"{top_y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
                        x + step * 0.1,
                        step * 0.8,
                        (base - top_y).max(0.5),
                        COLOURS[0],
                        esc(label),
                        esc(&number(*v))
                    );
                }
                _ => points.push(format!("{:.1},{:.1}", x + step / 2.0, y(*v))),
            }
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-40 {:.1} {:.1})\">{}</text>",
            x + step / 2.0,
            h - bottom + 14.0,
            x + step / 2.0,
            h - bottom + 14.0,
            esc(&label.chars().take(18).collect::<String>())
        );
    }
    if kind == Kind::Line && !points.is_empty() {
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            COLOURS[0],
            points.join(" ")
        );
        for p in &points {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(s, "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"3\" fill=\"{}\"/>", COLOURS[0]);
        }
    }
    s.push_str("</svg>");
    s
}

fn pie(title: &str, desc: &str, values: &[(String, Option<f64>)]) -> String {
    let total: f64 = values.iter().filter_map(|(_, v)| v.filter(|v| *v > 0.0)).sum();
    let mut s = open(title, desc, 720, 360);
    let (cx, cy, r) = (180.0, 180.0, 150.0);
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (label, v)) in values.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let share = v.filter(|v| *v > 0.0 && total > 0.0).map_or(0.0, |v| v / total);
        if share > 0.0 {
            let end = angle + share * std::f64::consts::TAU;
            let (x1, y1, x2, y2) = (cx + r * angle.cos(), cy + r * angle.sin(), cx + r * end.cos(), cy + r * end.sin());
            let large = i32::from(share > 0.5);
            let path = if share >= 0.9999 {
                format!("<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"{colour}\"")
            } else {
                format!(
                    "<path d=\"M{cx},{cy} L{x1:.1},{y1:.1} A{r},{r} 0 {large} 1 {x2:.1},{y2:.1} Z\" fill=\"{colour}\""
                )
            };
            let _ = write!(
                s,
                "{path} stroke=\"#fff\"><title>{}: {:.1} %</title></{}>",
                esc(label),
                share * 100.0,
                if share >= 0.9999 { "circle" } else { "path" }
            );
            angle = end;
        }
        let ly = 30.0 + 22.0 * i as f64;
        if ly < 350.0 {
            let _ = write!(
                s,
                "<rect x=\"370\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{colour}\"/><text x=\"392\" y=\"{:.1}\">{} ({:.1} %)</text>",
                ly - 11.0,
                ly,
                esc(&label.chars().take(40).collect::<String>()),
                share * 100.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A static map of points in Web Mercator, fitted to their bounds, with a frame and a scale of
/// degrees. No tiles: it works without JavaScript and without any outside server.
pub fn map(title: &str, points: &[(f64, f64, String)]) -> String {
    let (w, h, pad) = (720.0, 540.0, 30.0);
    let merc = |lat: f64| (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln();
    let desc = format!("{} Punkte / points", points.len());
    let mut s = open(title, &desc, w as u32, h as u32);
    let _ = write!(s, "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#eef3f7\" stroke=\"#999\"/>");
    if points.is_empty() {
        s.push_str("</svg>");
        return s;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (lat, lon, _) in points {
        x0 = x0.min(*lon);
        x1 = x1.max(*lon);
        y0 = y0.min(merc(*lat));
        y1 = y1.max(merc(*lat));
    }
    let sx = (x1 - x0).max(1e-6).to_radians();
    let sy = (y1 - y0).max(1e-6);
    let scale = ((w - 2.0 * pad) / sx).min((h - 2.0 * pad) / sy);
    for (lat, lon, label) in points {
        let x = pad + (lon - x0).to_radians() * scale;
        let y = h - pad - (merc(*lat) - y0) * scale;
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\" stroke=\"#fff\"><title>{}</title></circle>",
            COLOURS[5],
            esc(label)
        );
    }
    let _ = write!(s, "<text x=\"{pad}\" y=\"{:.1}\">{:.3}° – {:.3}° O/E</text>", h - 8.0, x0, x1);
    s.push_str("</svg>");
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn a_chart_escapes_labels_and_describes_its_values() {
        let v = vec![("<b>A&B</b>".to_owned(), Some(3.0)), ("C".to_owned(), None)];
        for kind in [Kind::Bar, Kind::Line, Kind::Pie] {
            let svg = render(kind, "Titel", &v);
            assert!(svg.contains("&lt;b&gt;A&amp;B&lt;/b&gt;"));
            assert!(!svg.contains("<b>"));
            assert!(svg.contains("<desc id=\"svg-desc\">&lt;b&gt;A&amp;B&lt;/b&gt;: 3; C: –</desc>"));
        }
    }

    #[test]
    fn map_points_stay_inside_the_frame() {
        let pts = vec![(51.5, 7.7, "a".to_owned()), (51.6, 7.8, "b".to_owned()), (51.55, 7.75, "c".to_owned())];
        let svg = map("Karte", &pts);
        for part in svg.split("<circle cx=\"").skip(1) {
            let x: f64 = part.split('"').next().unwrap().parse().unwrap();
            let y: f64 = part.split("cy=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
            assert!((0.0..=720.0).contains(&x) && (0.0..=540.0).contains(&y));
        }
    }
}
