//! Progress bars on stderr for long commands: drawn only when stderr is a terminal and CI is not
//! set, so logs and pipes stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl Progress {
    /// Visible on an interactive terminal, hidden in CI (`CI` set) or when stderr is redirected.
    pub fn for_stderr() -> Progress {
        let visible = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress { bar: std::sync::Mutex::new(None), visible }
    }

    pub fn hidden() -> Progress {
        Progress { bar: std::sync::Mutex::new(None), visible: false }
    }

    /// Starts a stage of `steps` steps (0: a spinner for work that cannot count).
    pub fn stage(&self, message: &str, steps: u64) {
        let bar = if !self.visible {
            ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::hidden())
        } else if steps == 0 {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            let bar = ProgressBar::new(steps);
            if let Ok(style) = ProgressStyle::with_template("{msg:>22} [{bar:30}] {pos}/{len} {elapsed}, about {eta} left") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        };
        bar.set_message(message.to_string());
        if let Ok(mut slot) = self.bar.lock()
            && let Some(old) = slot.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    /// Starts a stage that counts bytes (input read) up to `total`.
    pub fn stage_bytes(&self, message: &str, total: u64) {
        self.stage(message, total.max(1));
        if self.visible
            && let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
            && let Ok(style) = ProgressStyle::with_template("{msg:>22} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}, about {eta} left")
        {
            bar.set_style(style.progress_chars("=> "));
        }
    }

    pub fn advance_by(&self, steps: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(steps);
        }
    }

    pub fn advance(&self) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
