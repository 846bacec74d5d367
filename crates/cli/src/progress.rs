//! Progress display: indicatif spinners and bars on a terminal, plain lines otherwise.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress bars may be drawn: stdout and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Formats a duration for people: `12 ms`, `1.24 s`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_millis(1000) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<14.bold} {msg} {elapsed:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner:.cyan} {prefix:<14.bold} [{bar:30.cyan/blue}] {percent:>3}% {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// A set of progress lines, one per concurrent job (the demo's banks).
pub struct Board {
    multi: Option<MultiProgress>,
}

impl Board {
    /// Bars when `interactive`, plain lines on stdout otherwise.
    pub fn new(interactive: bool) -> Self {
        Self {
            multi: interactive
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// A line for one job named `name`.
    pub fn line(&self, name: &'static str) -> Line {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            bar.set_style(spinner_style());
            bar.set_prefix(name);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Line {
            name,
            bar,
            multi: self.multi.clone(),
            last_plain: 0,
        }
    }
}

/// One job's progress line.
pub struct Line {
    name: &'static str,
    bar: Option<ProgressBar>,
    multi: Option<MultiProgress>,
    last_plain: u64,
}

impl Line {
    /// Says what the job is doing now.
    pub fn step(&self, message: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_style(spinner_style());
                bar.set_message(message.to_string());
            }
            None => println!("{:<14} {message} ...", self.name),
        }
    }

    /// Logs a finished step with its duration (above the bars on a terminal).
    pub fn done(&self, message: &str, took: Duration) {
        let text = format!("{:<14} {message} ({})", self.name, human(took));
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("✔ {text}"));
            }
            None => println!("{text}"),
        }
    }

    /// Logs a failed step.
    pub fn failed(&self, message: &str) {
        let text = format!("{:<14} {message}", self.name);
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("✘ {text}"));
            }
            None => println!("{text}"),
        }
    }

    /// Shows a count-and-fraction progress (`done` of `total` units, e.g. days covered).
    pub fn progress(&mut self, done: u64, total: u64, message: &str, count: u64) {
        match &self.bar {
            Some(bar) => {
                if bar.length() != Some(total) {
                    bar.set_style(bar_style());
                    bar.set_length(total);
                }
                bar.set_position(done.min(total));
                bar.set_message(message.to_string());
            }
            None => {
                if count >= self.last_plain + 2500 {
                    self.last_plain = count - count % 2500;
                    println!("{:<14} {message}", self.name);
                }
            }
        }
    }

    /// Removes the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A spinner on stderr for a single wait (SCA polling, long listings); plain line on
/// stderr when not interactive.
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// Starts the spinner with `message`.
    pub fn start(message: &str, interactive: bool) -> Self {
        if !interactive {
            eprintln!("{message} ...");
            return Self { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Self { bar: Some(bar) }
    }

    /// Changes the message.
    pub fn set_message(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    /// Stops and clears it.
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
