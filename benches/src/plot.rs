//! `results.svg`: what readers compare, drawn with `plotters` on log scales.
//!
//! One throughput panel per workload (ops/s on a log axis, so memory's millions and a disk
//! store's thousands are both readable), then one ratio panel: each store against its raw
//! baseline and its Python anchor (`pykv-<store>`), with a line at 1×.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::runner::{Pair, RunResult};

const WIDTH: u32 = 900;
const ROW: u32 = 22;
/// Title, axis and margins of one panel, above and below its rows.
const PANEL_EXTRA: u32 = 70;
const LABEL_AREA: u32 = 210;
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// One panel: a title and labelled bars on a log axis.
struct Panel {
    title: String,
    axis: &'static str,
    bars: Vec<(String, f64, RGBColor)>,
    /// Where to draw a vertical reference line (1× on the ratio panel).
    mark: Option<f64>,
    /// How a bar's value is written beside it.
    value_label: fn(f64) -> String,
}

fn times(v: f64) -> String {
    format!("{v:.2}x")
}

/// The SVG document: throughput panels per workload, then the ratio panel when a pair ran.
pub fn svg(results: &[RunResult], pairs: &[Pair<'_>]) -> anyhow::Result<String> {
    let panels = panels(results, pairs);
    let height = panels
        .iter()
        .map(|p| ROW * p.bars.len() as u32 + PANEL_EXTRA)
        .sum::<u32>()
        .max(PANEL_EXTRA);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut rest = root;
        for panel in &panels {
            let (area, below) = rest.split_vertically(ROW * panel.bars.len() as u32 + PANEL_EXTRA);
            draw(&area, panel)?;
            rest = below;
        }
        rest.present()?;
    }
    Ok(out)
}

fn panels(results: &[RunResult], pairs: &[Pair<'_>]) -> Vec<Panel> {
    let mut stores: Vec<&str> = Vec::new();
    let mut workloads: Vec<&str> = Vec::new();
    for r in results {
        if !stores.contains(&r.backend.as_str()) {
            stores.push(&r.backend);
        }
        if !workloads.contains(&r.workload.as_str()) {
            workloads.push(&r.workload);
        }
    }
    let colour = |store: &str| {
        let i = stores.iter().position(|s| *s == store).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    let mut panels: Vec<Panel> = workloads
        .iter()
        .map(|w| Panel {
            title: format!("{w}: throughput (ops/s, log scale, higher is better)"),
            axis: "ops/s",
            bars: results
                .iter()
                .filter(|r| r.workload == *w)
                .map(|r| (r.backend.clone(), r.ops_per_sec, colour(&r.backend)))
                .collect(),
            mark: None,
            value_label: human,
        })
        .collect();
    if !pairs.is_empty() {
        panels.push(Panel {
            title:
                "each store against its baseline (ops/s ratio, log scale; right of 1x is faster)"
                    .into(),
            axis: "ratio",
            bars: pairs
                .iter()
                .map(|(r, base)| {
                    (
                        format!("{} / {} ({})", r.backend, base.backend, r.workload),
                        r.ops_per_sec / base.ops_per_sec.max(f64::MIN_POSITIVE),
                        colour(&r.backend),
                    )
                })
                .collect(),
            mark: Some(1.0),
            value_label: times,
        });
    }
    panels
}

/// The log axis's range: whole decades around every value (and the mark).
fn decades(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (1.0, 10.0);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
    (lo, hi)
}

/// A tick label: `1.0k`, `2.5M`, `0.5`.
pub(crate) fn human(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.1}G", v / 1e9),
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v if v >= 1.0 => format!("{v:.0}"),
        v => format!("{v:.2}"),
    }
}

fn draw(area: &DrawingArea<SVGBackend<'_>, Shift>, panel: &Panel) -> anyhow::Result<()> {
    let (lo, hi) = decades(panel.bars.iter().map(|b| b.1).chain(panel.mark));
    let rows = panel.bars.len();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 15))
        .margin(8)
        .margin_right(40)
        .x_label_area_size(24)
        .y_label_area_size(LABEL_AREA)
        .build_cartesian_2d((lo..hi).log_scale(), (0..rows).into_segmented())?;
    let labels: Vec<&str> = panel.bars.iter().map(|b| b.0.as_str()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(panel.axis)
        .x_label_formatter(&|v| human(*v))
        .y_labels(rows.max(1))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(slot) => rows
                .checked_sub(slot + 1)
                .and_then(|i| labels.get(i))
                .map_or(String::new(), |s| s.to_string()),
            _ => String::new(),
        })
        .draw()?;
    // The first bar at the top.
    let slot = |i: usize| rows - 1 - i;
    chart.draw_series(
        panel
            .bars
            .iter()
            .enumerate()
            .map(|(i, (_, value, colour))| {
                let i = slot(i);
                let mut bar = Rectangle::new(
                    [
                        (lo, SegmentValue::Exact(i)),
                        (value.clamp(lo, hi), SegmentValue::Exact(i + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }),
    )?;
    chart.draw_series(panel.bars.iter().enumerate().map(|(i, (_, value, _))| {
        Text::new(
            (panel.value_label)(*value),
            (value.clamp(lo, hi), SegmentValue::CenterOf(slot(i))),
            ("sans-serif", 11),
        )
    }))?;
    if let Some(mark) = panel.mark {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (mark, SegmentValue::Exact(0)),
                (mark, SegmentValue::Exact(rows)),
            ],
            BLACK.stroke_width(2),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::result;

    /// The text of every `<text>` element, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn throughput_is_drawn_on_a_log_axis_spanning_every_store() {
        let results = [
            result("memory", "read-only", 2_500_000.0),
            result("disk", "read-only", 4_000.0),
        ];
        let text = svg(&results, &[]).unwrap();
        assert!(text.starts_with("<svg"), "{text}");
        // Whole decades from 1k to 10M, so the slow store is a visible bar, not a sliver.
        let texts = texts(&text);
        for label in [
            "1.0k", "10.0k", "100.0k", "1.0M", "memory", "disk", "2.5M", "4.0k",
        ] {
            assert!(texts.iter().any(|t| t == label), "no {label}: {texts:?}");
        }
    }

    #[test]
    fn the_ratio_panel_labels_each_pair_and_marks_one() {
        let results = [result("memory", "a", 200.0), result("moka", "a", 100.0)];
        let text = svg(&results, &[(&results[0], &results[1])]).unwrap();
        let texts = texts(&text);
        for label in ["memory / moka (a)", "2.00x", "1", "10"] {
            assert!(texts.iter().any(|t| t == label), "no {label}: {texts:?}");
        }
        assert!(
            texts.iter().any(|t| t.contains("against its baseline")),
            "{texts:?}"
        );
        // The line at 1x: a two-point path beside the bars.
        assert!(text.contains("<polyline"), "{text}");
    }

    #[test]
    fn an_empty_run_is_still_a_document() {
        let text = svg(&[], &[]).unwrap();
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(human(2_500_000.0), "2.5M");
        assert_eq!(human(4_000.0), "4.0k");
        assert_eq!(human(7.0), "7");
        assert_eq!(human(0.5), "0.50");
        assert_eq!(
            decades([4_000.0, 2_500_000.0].into_iter()),
            (1_000.0, 10_000_000.0)
        );
        assert_eq!(decades(std::iter::empty()), (1.0, 10.0));
    }
}
