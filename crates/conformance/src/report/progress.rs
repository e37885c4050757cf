//! Live progress while a run is under way, on stderr.
//!
//! On a terminal each phase gets an `indicatif` spinner that counts the
//! requests of that phase and, when the phase ends, stays behind as one
//! finished line with its count and time. Anywhere else (a CI log, a pipe)
//! the same phases are plain `tracing` lines, `phase 3/12: flows`, which
//! read well in a log and do not fill it with redraws.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The display of the run under way, for code that has no handle on it.
static CURRENT: RwLock<Option<Progress>> = RwLock::new(None);

/// Makes `progress` the display [`current`] answers.
pub fn install(progress: Progress) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(progress);
}

/// The display [`install`] set, or plain lines when none was.
pub fn current() -> Progress {
    CURRENT
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// A handle on the run's progress display; clones share it.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// The stack of bars, finished ones above the current one; `None`
    /// shows plain lines instead.
    bars: Option<MultiProgress>,
    current: Option<ProgressBar>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("bars", &self.state().bars.is_some())
            .finish()
    }
}

impl Progress {
    /// Progress with spinners when `bars`, plain lines otherwise.
    pub fn new(bars: bool) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                bars: bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
                current: None,
            })),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while the display was locked leaves nothing
        // half-done that matters; keep showing progress.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the previous phase and starts phase `number` of `total`.
    pub fn phase(&self, number: usize, total: usize, name: &str) {
        let mut state = self.state();
        if let Some(bar) = state.current.take() {
            bar.finish();
        }
        let Some(bars) = &state.bars else {
            tracing::info!("phase {number}/{total}: {name}");
            return;
        };
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.cyan} phase {prefix}: {msg} — {pos} requests [{elapsed}]",
            )
            .expect("the progress template is valid")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓"),
        );
        bar.set_prefix(format!("{number}/{total}"));
        bar.set_message(name.to_string());
        let bar = bars.add(bar);
        bar.enable_steady_tick(Duration::from_millis(120));
        state.current = Some(bar);
    }

    /// Counts one request in the current phase.
    pub fn request(&self) {
        if let Some(bar) = &self.state().current {
            bar.inc(1);
        }
    }

    /// Ends the last phase.
    pub fn finish(&self) {
        if let Some(bar) = self.state().current.take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_bars_phases_and_requests_leave_no_bar_behind() {
        let progress = Progress::new(false);

        progress.phase(1, 2, "target");
        progress.request();

        assert!(progress.state().current.is_none());
    }
}
