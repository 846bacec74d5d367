//! Sample statistics and the Markdown report of `cargo xtask bench`.

use std::fmt::Write as _;

/// Median and spread of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// The median sample.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples.
    pub n: usize,
}

impl Stats {
    /// Statistics of `samples`; `None` when there are none (or one is not finite).
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            n,
        })
    }

    /// The spread of the samples relative to their median: `(max - min) / median`
    /// (0 for one sample, infinite for a zero median with a spread).
    pub fn spread(&self) -> f64 {
        let width = self.max - self.min;
        if width == 0.0 {
            0.0
        } else if self.median == 0.0 {
            f64::INFINITY
        } else {
            (width / self.median).abs()
        }
    }
}

/// A row whose figures spread more than this share of their median is "noisy".
pub const NOISY_SPREAD: f64 = 0.20;

/// Whether a row meets its target.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The target is met.
    Met,
    /// The target is missed.
    Missed,
    /// Not measured, with the reason.
    Skipped(String),
    /// A figure without a target of its own.
    Info,
    /// Met or missed, but a figure's spread (in percent of its median, the largest of the
    /// row's figures) is above [`NOISY_SPREAD`]: the verdict would not be repeatable.
    Noisy {
        /// Whether the medians met the target.
        met: bool,
        /// The largest spread, in percent.
        spread_pct: f64,
    },
}

/// One line of the report table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured, e.g. `generation: Berlin Group 1.3.12 (process wall time)`.
    pub what: String,
    /// Unit of `ours` and `baseline`, e.g. `s`, `tx/s`, `MiB`.
    pub unit: &'static str,
    /// Our figure.
    pub ours: Option<Stats>,
    /// The comparison's name and figure.
    pub baseline: Option<(String, Stats)>,
    /// The ratio the target is about (its meaning is in `target`).
    pub ratio: Option<f64>,
    /// The target, in words.
    pub target: String,
    /// Met, missed, skipped or informational.
    pub verdict: Verdict,
}

impl Row {
    /// A row without figures, skipped for `reason`.
    pub fn skipped(what: impl Into<String>, target: impl Into<String>, reason: String) -> Row {
        Row {
            what: what.into(),
            unit: "",
            ours: None,
            baseline: None,
            ratio: None,
            target: target.into(),
            verdict: Verdict::Skipped(reason),
        }
    }
}

impl Row {
    /// The largest spread of the row's figures (ours and the baseline's).
    pub fn spread(&self) -> f64 {
        let ours = self.ours.map_or(0.0, |s| s.spread());
        let base = self.baseline.as_ref().map_or(0.0, |(_, s)| s.spread());
        ours.max(base)
    }

    /// Whether the row is noisy (see [`Verdict::Noisy`]).
    pub fn is_noisy(&self) -> bool {
        matches!(self.verdict, Verdict::Noisy { .. })
    }
}

/// Turns a met or missed verdict into [`Verdict::Noisy`] when a figure of the row spreads
/// more than [`NOISY_SPREAD`] of its median.
pub fn mark_noisy(row: &mut Row) {
    let spread = row.spread();
    if spread <= NOISY_SPREAD {
        return;
    }
    let met = match row.verdict {
        Verdict::Met => true,
        Verdict::Missed => false,
        _ => return,
    };
    row.verdict = Verdict::Noisy {
        met,
        spread_pct: spread * 100.0,
    };
}

/// Verdict of "`ratio` must be at least `min`".
pub fn at_least(ratio: f64, min: f64) -> Verdict {
    if ratio >= min {
        Verdict::Met
    } else {
        Verdict::Missed
    }
}

/// Verdict of "`ratio` must be at most `max`".
pub fn at_most(ratio: f64, max: f64) -> Verdict {
    if ratio <= max {
        Verdict::Met
    } else {
        Verdict::Missed
    }
}

/// Formats a number with about four significant digits.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        // Thousands separators for throughputs.
        let s = format!("{:.0}", v);
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn stats_cell(s: &Stats, unit: &str) -> String {
    if s.n == 1 {
        format!("{} {unit}", num(s.median))
    } else {
        format!(
            "{} {unit} ({}–{}, spread {:.0}%, n={})",
            num(s.median),
            num(s.min),
            num(s.max),
            s.spread() * 100.0,
            s.n
        )
    }
}

/// Everything the report says besides the rows.
#[derive(Debug, Clone)]
pub struct Header {
    /// `smoke` or `full`.
    pub mode: &'static str,
    /// Logical CPUs the process may use.
    pub cores: usize,
    /// The CPU model, from /proc/cpuinfo when available.
    pub cpu: Option<String>,
    /// `rustc -V`.
    pub rustc: Option<String>,
    /// Profile of the in-process benchmark binaries.
    pub profile: &'static str,
    /// Wall time of the whole run, seconds (filled in at the end).
    pub total_secs: f64,
    /// Of which installing and building (venv, dependency pre-builds, bench binaries).
    pub setup_secs: f64,
}

/// Renders the report as Markdown.
pub fn render(header: &Header, rows: &[Row], notes: &[String]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# psd2-rs benchmark report\n");
    let _ = writeln!(
        md,
        "- mode: **{}** (in-process binaries built with the `{}` profile)",
        header.mode, header.profile
    );
    let _ = writeln!(md, "- cores: **{}**", header.cores);
    if let Some(cpu) = &header.cpu {
        let _ = writeln!(md, "- cpu: {cpu}");
    }
    if let Some(rustc) = &header.rustc {
        let _ = writeln!(md, "- {rustc}");
    }
    let _ = writeln!(
        md,
        "- whole run: {:.1} s, of which {:.1} s installing and building, {:.1} s measuring\n\n\
         Figures are `median (min–max, spread, n=samples)`, the spread being \
         `(max − min) / median`; a row whose spread is above {:.0}% is marked noisy instead \
         of met or missed (`--repeat N` runs it again, up to N times).\n",
        header.total_secs,
        header.setup_secs,
        header.total_secs - header.setup_secs,
        NOISY_SPREAD * 100.0
    );
    let _ = writeln!(
        md,
        "| what | ours | baseline | ratio | target | result |\n|---|---|---|---|---|---|"
    );
    for r in rows {
        let ours = r
            .ours
            .as_ref()
            .map(|s| stats_cell(s, r.unit))
            .unwrap_or_else(|| "–".into());
        let base = r
            .baseline
            .as_ref()
            .map(|(name, s)| format!("{name}: {}", stats_cell(s, r.unit)))
            .unwrap_or_else(|| "–".into());
        let ratio = r
            .ratio
            .map(|x| format!("{}x", num(x)))
            .unwrap_or_else(|| "–".into());
        // Smoke sizes say nothing about the targets: mark their verdicts as indicative.
        let smoke = if header.mode == "smoke" {
            " (smoke)"
        } else {
            ""
        };
        let verdict = match &r.verdict {
            Verdict::Met => format!("met{smoke}"),
            Verdict::Missed => format!("**missed**{smoke}"),
            Verdict::Skipped(why) => format!("skipped: {why}"),
            Verdict::Info if r.spread() > NOISY_SPREAD => {
                format!("info (noisy: spread {:.0}%)", r.spread() * 100.0)
            }
            Verdict::Info => "info".to_string(),
            Verdict::Noisy { met, spread_pct } => format!(
                "noisy (spread {spread_pct:.0}% > {:.0}%; the medians {}){smoke}",
                NOISY_SPREAD * 100.0,
                if *met { "meet it" } else { "miss it" }
            ),
        };
        let _ = writeln!(
            md,
            "| {} | {ours} | {base} | {ratio} | {} | {verdict} |",
            r.what, r.target
        );
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\n## Notes\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        let s = Stats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        let s = Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(num(1_234_567.0), "1,234,567");
        assert_eq!(num(123.4), "123");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(0.01234), "0.012");
    }

    #[test]
    fn table_shows_figures_ratio_and_verdict() {
        let header = Header {
            mode: "smoke",
            cores: 2,
            cpu: None,
            rustc: None,
            profile: "dev",
            total_secs: 1.0,
            setup_secs: 0.5,
        };
        let rows = vec![
            Row {
                what: "gen".into(),
                unit: "s",
                ours: Stats::of(&[1.0, 2.0, 3.0]),
                baseline: Some(("other".into(), Stats::of(&[30.0]).unwrap())),
                ratio: Some(15.0),
                target: "≥ 10x".into(),
                verdict: at_least(15.0, 10.0),
            },
            Row::skipped("build", "≤ 0.5x", "no java".into()),
        ];
        let md = render(&header, &rows, &["a note".into()]);
        assert!(md.contains("cores: **2**"), "{md}");
        assert!(
            md.contains(
                "| gen | 2.00 s (1.00–3.00, spread 100%, n=3) | other: 30.0 s | 15.0x | ≥ 10x | met (smoke) |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| build | – | – | – | ≤ 0.5x | skipped: no java |"),
            "{md}"
        );
        assert!(md.contains("- a note"), "{md}");
        assert_eq!(at_most(0.6, 0.5), Verdict::Missed);
    }

    fn row(ours: &[f64], base: &[f64], verdict: Verdict) -> Row {
        Row {
            what: "r".into(),
            unit: "tx/s",
            ours: Stats::of(ours),
            baseline: Some(("b".into(), Stats::of(base).unwrap())),
            ratio: Some(1.0),
            target: "t".into(),
            verdict,
        }
    }

    #[test]
    fn a_wide_spread_makes_a_verdict_noisy() {
        // 90..110 around 100: a spread of exactly 20%, not above it.
        let mut r = row(&[90.0, 100.0, 110.0], &[100.0], Verdict::Met);
        mark_noisy(&mut r);
        assert_eq!(r.verdict, Verdict::Met);
        // The baseline 80..125 around 100 spreads 45%: the row is noisy, whatever ours does.
        let mut r = row(&[100.0], &[80.0, 100.0, 125.0], Verdict::Missed);
        mark_noisy(&mut r);
        match r.verdict {
            Verdict::Noisy { met, spread_pct } => {
                assert!(!met);
                assert!((spread_pct - 45.0).abs() < 1e-9, "{spread_pct}");
            }
            other => panic!("{other:?}"),
        }
        // A row without a target stays informational.
        let mut r = row(&[50.0, 100.0, 150.0], &[100.0], Verdict::Info);
        mark_noisy(&mut r);
        assert_eq!(r.verdict, Verdict::Info);
        let header = Header {
            mode: "full",
            cores: 2,
            cpu: None,
            rustc: None,
            profile: "release",
            total_secs: 1.0,
            setup_secs: 0.5,
        };
        let mut r = row(&[100.0], &[80.0, 100.0, 125.0], Verdict::Met);
        mark_noisy(&mut r);
        let md = render(&header, &[r], &[]);
        assert!(
            md.contains("| b: 100 tx/s (80.0–125, spread 45%, n=3) | 1.00x | t | noisy (spread 45% > 20%; the medians meet it) |"),
            "{md}"
        );
    }
}
