//! Earlier pages of the timeline, read back from the followed journal on a thread of their
//! own: a page read never holds up a write, and the sparse index of the file (see
//! [`crate::journal::file::Pages`]) is built once per file and kept.

use std::sync::mpsc;

use super::*;
use crate::app::earlier::EarlierPage;
use crate::journal::file::Pages;

/// One page to read.
struct Job {
    path: PathBuf,
    source: Source,
    from: u64,
    to: u64,
}

/// The pager thread, started at the first page asked for.
pub(super) struct Pager {
    jobs: mpsc::Sender<Job>,
}

impl Pager {
    fn spawn(events: Sender<JournalEvent>) -> std::io::Result<Pager> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("journal-pages".into())
            .spawn(move || {
                let mut pages: Option<Pages> = None;
                while let Ok(job) = rx.recv() {
                    let page = read(&mut pages, &job);
                    let answer = JournalEvent::Earlier {
                        source: job.source,
                        from: job.from,
                        to: job.to,
                        page,
                    };
                    if events.blocking_send(answer).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Pager { jobs })
    }
}

fn read(pages: &mut Option<Pages>, job: &Job) -> EarlierPage {
    if !pages.as_ref().is_some_and(|p| p.is_of(&job.path)) {
        *pages = None;
        *pages = Some(Pages::open(&job.path).map_err(|e| e.to_string())?);
    }
    let Some(p) = pages.as_mut() else {
        return Err(format!("{}: not open", job.path.display()));
    };
    match p.read(job.from, job.to) {
        Ok(page) => Ok((page.entries, page.start)),
        Err(e) => {
            // A file that shrank (or failed) is opened and indexed again next time.
            *pages = None;
            Err(e.to_string())
        }
    }
}

impl KeeperState {
    /// Reads entries `from..=to` of the followed journal back for the timeline; the answer
    /// comes as a [`JournalEvent::Earlier`], from the pager thread for a file.
    pub(super) fn read_earlier(&mut self, source: Source, from: u64, to: u64) {
        let answer = |page: EarlierPage| JournalEvent::Earlier {
            source: source.clone(),
            from,
            to,
            page,
        };
        if source != self.source {
            self.send(answer(Err("the journal followed has changed".into())));
            return;
        }
        let path = match (&self.followed.path, &self.watch) {
            (Some(p), _) => p.clone(),
            // A drill's watch log, in memory.
            (None, Watch::Memory(v)) => {
                let page = crate::app::earlier::page_in_memory(v, from, to);
                self.send(answer(Ok(page)));
                return;
            }
            (None, Watch::File(_)) => {
                self.send(answer(Err("no journal is followed".into())));
                return;
            }
        };
        if let Err(why) = self.guard(&path) {
            self.send(answer(Err(why)));
            return;
        }
        if self.pager.is_none() {
            match Pager::spawn(self.events.clone()) {
                Ok(p) => self.pager = Some(p),
                Err(e) => {
                    self.send(answer(Err(format!("cannot start a reader: {e}"))));
                    return;
                }
            }
        }
        let job = Job {
            path,
            source: source.clone(),
            from,
            to,
        };
        if let Some(p) = self.pager.as_ref()
            && p.jobs.send(job).is_err()
        {
            self.pager = None;
            self.send(answer(Err("the journal's reader stopped".into())));
        }
    }
}
