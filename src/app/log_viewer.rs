//! The step log viewer: `Enter` on the runbook panel shows the newest lines of the log of a
//! step of the shown runbook (the last run of the step that ran last), read through the
//! journal keeper (the log is a file beside the journal, trusted as its files are), read
//! again every second while open, so a running step's output can be followed from any console,
//! an observer's included. `Tab` goes to the next step of the runbook that has a log.

use super::update::{Effect, State};
use super::view::Key;

/// The most lines of a log the viewer holds (its newest).
pub const TAIL_LINES: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct LogViewer {
    pub runbook: String,
    pub step: String,
    /// The file, as the journal names it.
    pub path: String,
    /// Its newest lines, oldest first (untrusted text: cleaned when drawn).
    pub lines: Vec<String>,
    /// Its size when last read.
    pub size: u64,
    /// Why it could not be read.
    pub problem: Option<String>,
    /// Rows scrolled up from the newest line.
    pub back: usize,
    /// A read is asked for and not answered yet.
    pub asked: bool,
}

/// What the keeper read of a step's log: `(newest lines, size)`.
pub type LogTail = Result<(Vec<String>, u64), String>;

impl State {
    /// The steps of the shown runbook whose last run has a log, newest run first.
    fn logged_steps(&self) -> Vec<(String, String, String)> {
        let Some(rb) = self.runbooks.get(self.view.runbook) else {
            return Vec::new();
        };
        let mut found: Vec<_> = rb
            .steps
            .iter()
            .filter_map(|s| {
                let r = self.steps.get(&rb.id, &s.id)?;
                let log = r.log.clone()?;
                Some((r.last_at, rb.id.clone(), s.id.clone(), log))
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, r, s, l)| (r, s, l)).collect()
    }

    /// `Enter` on the runbook panel.
    pub(super) fn open_log_viewer(&mut self, effects: &mut Vec<Effect>) {
        match self.logged_steps().into_iter().next() {
            Some((runbook, step, path)) => self.show_log(runbook, step, path, effects),
            None => {
                self.view.flash =
                    Some("no step of this runbook has a log yet (command steps keep one)".into())
            }
        }
    }

    fn show_log(&mut self, runbook: String, step: String, path: String, effects: &mut Vec<Effect>) {
        effects.push(Effect::ReadStepLog { path: path.clone() });
        self.log_viewer = Some(LogViewer {
            runbook,
            step,
            path,
            lines: Vec::new(),
            size: 0,
            problem: None,
            back: 0,
            asked: true,
        });
    }

    pub(super) fn on_log_viewer_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
        let Some(v) = self.log_viewer.as_mut() else {
            return;
        };
        let most = v.lines.len().saturating_sub(1);
        match key {
            Key::Esc | Key::Enter | Key::Char('q') => self.log_viewer = None,
            Key::Up => v.back = (v.back + 1).min(most),
            Key::Down => v.back = v.back.saturating_sub(1),
            Key::PageUp => v.back = (v.back + 20).min(most),
            Key::PageDown => v.back = v.back.saturating_sub(20),
            Key::Home => v.back = most,
            Key::End => v.back = 0,
            Key::Tab => {
                let shown = (v.runbook.clone(), v.step.clone());
                let logged = self.logged_steps();
                let at = logged
                    .iter()
                    .position(|(r, s, _)| (r, s) == (&shown.0, &shown.1));
                let next = at.map_or(0, |i| (i + 1) % logged.len().max(1));
                if let Some((runbook, step, path)) = logged.get(next).cloned() {
                    self.show_log(runbook, step, path, effects);
                }
            }
            _ => {}
        }
    }

    /// Every second while open: read the log again (a running step's grows).
    pub(super) fn refresh_log_viewer(&mut self, effects: &mut Vec<Effect>) {
        if let Some(v) = self.log_viewer.as_mut()
            && !v.asked
        {
            v.asked = true;
            effects.push(Effect::ReadStepLog {
                path: v.path.clone(),
            });
        }
    }

    /// What the keeper read.
    pub(super) fn on_log_tail(&mut self, path: &str, tail: LogTail) {
        let Some(v) = self.log_viewer.as_mut().filter(|v| v.path == path) else {
            return;
        };
        v.asked = false;
        match tail {
            Ok((lines, size)) => {
                // Lines that came in while scrolled back keep the same lines on screen.
                let grew = lines.len().saturating_sub(v.lines.len());
                if v.back > 0 {
                    v.back += grew;
                }
                v.lines = lines;
                v.size = size;
                v.back = v.back.min(v.lines.len().saturating_sub(1));
                v.problem = None;
            }
            Err(why) => v.problem = Some(why),
        }
    }
}

#[cfg(test)]
mod tests;
