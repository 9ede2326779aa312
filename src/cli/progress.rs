//! The progress of a batch on stderr, for a person watching it: lines
//! done and lines per second, and with a file of known size a bar with
//! the time left. Only on a terminal: a pipe, a log or a dumb terminal
//! never gets its escape codes.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{
    HumanCount, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressState, ProgressStyle,
};

pub struct Progress {
    bar: ProgressBar,
    /// Lines done, read when the bar is drawn (at most 20 times a second)
    /// rather than formatted at every update.
    lines: Arc<AtomicU64>,
}

/// With the input's size: the share of it read. The bar's position is in
/// bytes (compressed ones for a compressed file), so its ETA follows the
/// bytes; the lines are counted beside it.
const BAR: &str = "{bar:30} {percent:>3}%  {lines}  ETA {eta}";
/// Without it (stdin, a pipe): how far it has got.
const SPINNER: &str = "{spinner} {lines}";

impl Progress {
    /// A progress display for a batch of `size` bytes (`None`: unknown),
    /// when stderr is a terminal that can show one; `None` otherwise.
    pub fn start(size: Option<u64>) -> Option<Progress> {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if !std::io::stderr().is_terminal() || dumb {
            return None;
        }
        let lines = Arc::new(AtomicU64::new(0));
        let style = style(if size.is_some() { BAR } else { SPINNER }, &lines)?;
        let bar = ProgressBar::with_draw_target(size, ProgressDrawTarget::stderr())
            .with_style(style)
            // However the run ends, nothing is left on the line for the
            // summary or an error to be written after.
            .with_finish(ProgressFinish::AndClear);
        Some(Progress { bar, lines })
    }

    /// After each chunk: `lines` written, `read` bytes of the input read.
    pub fn update(&self, lines: u64, read: u64) {
        self.lines.store(lines, Ordering::Relaxed);
        self.bar.set_position(read);
    }

    /// Takes the display off the terminal, before anything else is
    /// written to stderr.
    pub fn clear(self) {
        self.bar.finish_and_clear();
    }
}

/// `template` with `{lines}`: lines done, and lines per second since the
/// start.
fn style(template: &str, lines: &Arc<AtomicU64>) -> Option<ProgressStyle> {
    let lines = Arc::clone(lines);
    let done = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let n = lines.load(Ordering::Relaxed);
        let seconds = state.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        };
        let _ = write!(w, "{} lines, {}/s", HumanCount(n), HumanCount(rate as u64));
    };
    let style = ProgressStyle::with_template(template).ok()?;
    Some(style.with_key("lines", done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        let lines = Arc::new(AtomicU64::new(0));
        for template in [BAR, SPINNER] {
            assert!(style(template, &lines).is_some(), "{template}");
        }
    }
}
