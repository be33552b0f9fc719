//! Reading ahead of the store: a helper thread reads, hashes, archives and parses the small
//! inputs of a batch while the ingesting thread stores the ones before them. Each small input
//! becomes a [`Prepared`] value (its digest, its compressed archive chunks and every report in
//! it, parsed); a large input, or one whose reports hold too many records to keep in memory,
//! is passed on as read so that the ingesting thread streams it itself.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, mpsc};

use crate::aggregate::{AggregateHeader, AggregateReader, AggregateTrailer, Record, recycle_here};
use crate::archive::Archiver;
use crate::container::{Visitor, walk};
use crate::error::{ParseError, StoreError};
use crate::feedback::FeedbackReport;
use crate::limits::Limits;
use crate::tlsrpt::TlsReport;

/// Inputs up to this size are prepared ahead; larger ones are streamed by the store.
const PREPARED_BYTES: u64 = 1 << 20;
/// Most aggregate records one prepared input may hold; an input with more (a small gzip
/// that inflates to a large report) is streamed by the store instead.
const PREPARED_RECORDS: usize = 20_000;
/// Inputs each reading thread prepares ahead of the store at most...
const AHEAD: usize = 256;
/// ... and the most memory they may hold (by [`Ahead::weight`]), past one input. The
/// readers keep going while the store opens (creating an SQLite file waits on the disk for
/// 20-30 ms), which 16 inputs ahead each did not cover.
const AHEAD_BYTES: usize = 8 << 20;
/// Bytes an aggregate record is counted for in [`Ahead::weight`].
const RECORD_WEIGHT: usize = 512;

/// An input read from disk: its content when small enough to hold in memory, with its
/// SHA-256 (hex; a larger input is hashed as the store archives it), and its size.
pub(crate) struct Input {
    pub(crate) whole: Option<Vec<u8>>,
    pub(crate) sha: Option<String>,
    pub(crate) size: u64,
}

/// One report (or failure) found in a prepared input, in the order of the input.
pub(crate) enum Parsed {
    /// An aggregate report: its header, its records, and how reading it ended.
    Aggregate {
        location: String,
        header: Box<AggregateHeader>,
        /// The header's detail column (JSON), written here rather than by the store.
        detail: String,
        records: Vec<Record>,
        end: Result<AggregateTrailer, ParseError>,
    },
    Tls {
        location: String,
        report: Box<TlsReport>,
    },
    Feedback {
        location: String,
        report: Box<FeedbackReport>,
    },
    Failed {
        location: String,
        error: ParseError,
    },
}

/// A small input, ready to store.
pub(crate) struct Prepared {
    pub(crate) sha: String,
    pub(crate) size: u64,
    /// The gzip archive of the input, in chunks.
    pub(crate) archive: Vec<Vec<u8>>,
    pub(crate) reports: Vec<Parsed>,
}

/// What the reading thread hands the store for each input, in order.
pub(crate) enum Ahead {
    /// Parsed already.
    Ready(Box<Prepared>),
    /// To be streamed by the store (read and hashed already).
    Stream(Input),
    /// Unreadable.
    Failed(StoreError),
}

impl Ahead {
    /// About the memory this holds: the input's bytes, or its archive and its records.
    fn weight(&self) -> usize {
        match self {
            Ahead::Ready(prepared) => {
                let archive: usize = prepared.archive.iter().map(Vec::len).sum();
                let records: usize = prepared
                    .reports
                    .iter()
                    .map(|report| match report {
                        Parsed::Aggregate { records, .. } => records.len(),
                        _ => 1,
                    })
                    .sum();
                archive + records * RECORD_WEIGHT
            }
            Ahead::Stream(input) => input.whole.as_ref().map_or(0, Vec::len),
            Ahead::Failed(_) => 0,
        }
    }
}

/// What one reading thread holds prepared and not yet taken by the store: it waits while
/// that is over [`AHEAD`] inputs or [`AHEAD_BYTES`]. One per thread: the store takes the
/// inputs in turn from each, so a thread waiting for room always holds the input the store
/// wants next from it (with one budget for all, a thread could fill it while the store
/// waits for the other).
#[derive(Default)]
struct Budget {
    /// Inputs, their weight, and whether the store stopped.
    held: Mutex<(usize, usize, bool)>,
    freed: Condvar,
}

impl Budget {
    /// Waits for room for an input of `weight` (always room when nothing is held); `false`
    /// when the store stopped.
    fn take(&self, weight: usize) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while !held.2 && held.0 > 0 && (held.0 >= AHEAD || held.1 + weight > AHEAD_BYTES) {
            held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        if held.2 {
            return false;
        }
        held.0 += 1;
        held.1 += weight;
        true
    }

    /// The store took an input of `weight`.
    fn give(&self, weight: usize) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.0 = held.0.saturating_sub(1);
        held.1 = held.1.saturating_sub(weight);
        self.freed.notify_all();
    }

    /// The store stopped: every waiting reader ends.
    fn stop(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).2 = true;
        self.freed.notify_all();
    }
}

/// Stops the readers when dropped.
struct Stopping<'b>(&'b [Budget]);

impl Drop for Stopping<'_> {
    fn drop(&mut self) {
        self.0.iter().for_each(Budget::stop);
    }
}

/// Collects every report of one input, up to [`PREPARED_RECORDS`] records.
#[derive(Default)]
struct Collect {
    reports: Vec<Parsed>,
    records: usize,
    too_many: bool,
}

impl Visitor for Collect {
    type Error = ();

    fn aggregate(
        &mut self,
        location: &str,
        mut reader: AggregateReader<Box<dyn BufRead + '_>>,
    ) -> Result<(), ()> {
        let header = Box::new(reader.header().clone());
        let mut records = Vec::new();
        let end = loop {
            match reader.next_record() {
                Ok(Some(record)) => {
                    self.records += 1;
                    if self.records > PREPARED_RECORDS {
                        self.too_many = true;
                        return Err(());
                    }
                    records.push(record);
                }
                Ok(None) => break reader.finish(),
                Err(err) => break Err(err),
            }
        };
        self.reports.push(Parsed::Aggregate {
            location: location.to_owned(),
            detail: crate::ingest::aggregate_detail(&header),
            header,
            records,
            end,
        });
        Ok(())
    }

    fn tls(&mut self, location: &str, report: TlsReport) -> Result<(), ()> {
        self.reports.push(Parsed::Tls {
            location: location.to_owned(),
            report: Box::new(report),
        });
        Ok(())
    }

    fn feedback(&mut self, location: &str, report: FeedbackReport) -> Result<(), ()> {
        self.reports.push(Parsed::Feedback {
            location: location.to_owned(),
            report: Box::new(report),
        });
        Ok(())
    }

    fn failed(&mut self, location: &str, error: ParseError) -> Result<(), ()> {
        self.reports.push(Parsed::Failed {
            location: location.to_owned(),
            error,
        });
        Ok(())
    }
}

/// Reads, hashes, archives and parses one input.
fn prepare(path: &Path, limits: &Limits, archiver: &mut Archiver) -> Ahead {
    let input = match crate::ingest::read_input(path) {
        Ok(input) => input,
        Err(err) => return Ahead::Failed(err),
    };
    let (Some(bytes), Some(sha)) = (
        input
            .whole
            .as_deref()
            .filter(|_| input.size <= PREPARED_BYTES),
        input.sha.clone(),
    ) else {
        return Ahead::Stream(input);
    };
    let mut collect = Collect::default();
    if walk(Box::new(bytes), "", 0, limits, &mut collect).is_err() || collect.too_many {
        return Ahead::Stream(input);
    }
    let mut archive = Vec::new();
    let shown = path.display().to_string();
    if let Err(err) = archiver.archive(bytes, &shown, |chunk| {
        archive.push(chunk.to_vec());
        Ok(())
    }) {
        return Ahead::Failed(err);
    }
    Ahead::Ready(Box::new(Prepared {
        sha,
        size: input.size,
        archive,
        reports: collect.reports,
    }))
}

/// Runs `store` on the calling thread with what `readers` reading threads prepare for each
/// of `files`, in order (reader `k` prepares files `k`, `k + readers`, ...). The reading
/// threads stop as soon as `store` returns. With one reader (one processor) or one file, no
/// thread is started: each file is prepared on the calling thread as `store` asks for it.
/// `store` hands the records of file `index` back through its second argument once it is
/// done with them: the thread that read them takes their allocations for the files it reads
/// next (and frees the rest itself, which is cheaper for the allocator than a free from
/// another thread).
pub(crate) fn read_ahead<T>(
    files: &[PathBuf],
    limits: &Limits,
    readers: usize,
    store: impl FnOnce(&mut dyn Iterator<Item = (usize, Ahead)>, &dyn Fn(usize, Vec<Record>)) -> T,
) -> T {
    let readers = readers.clamp(1, 8);
    if readers == 1 || files.len() < 2 {
        let mut archiver = Archiver::default();
        let mut in_turn = files
            .iter()
            .enumerate()
            .map(|(index, path)| (index, prepare(path, limits, &mut archiver)));
        return store(&mut in_turn, &|_, records| recycle_here(records));
    }
    let budgets: Vec<Budget> = (0..readers).map(|_| Budget::default()).collect();
    std::thread::scope(|scope| {
        let budgets = &budgets;
        let mut channels = Vec::with_capacity(readers);
        let mut returns = Vec::with_capacity(readers);
        for first in 0..readers {
            let (tx, rx) = mpsc::channel::<(Ahead, usize)>();
            let (back_tx, back_rx) = mpsc::channel::<Vec<Record>>();
            channels.push(rx);
            returns.push(back_tx);
            scope.spawn(move || {
                let mut archiver = Archiver::default();
                for path in files.iter().skip(first).step_by(readers) {
                    while let Ok(spent) = back_rx.try_recv() {
                        recycle_here(spent);
                    }
                    let ahead = prepare(path, limits, &mut archiver);
                    let weight = ahead.weight();
                    if !budgets[first].take(weight) || tx.send((ahead, weight)).is_err() {
                        // The store stopped.
                        return;
                    }
                }
            });
        }
        // Records handed back after their reader ended are dropped here.
        let give_back = |index: usize, records: Vec<Record>| {
            let _ = returns[index % readers].send(records);
        };
        // A reader that stopped early (it panicked) ends the sequence; `scope` then
        // re-raises its panic.
        let mut received = (0..files.len()).map_while(|index| {
            let (ahead, weight) = channels[index % readers].recv().ok()?;
            budgets[index % readers].give(weight);
            Some((index, ahead))
        });
        // When the store returns (or panics), readers waiting for room stop, and the others
        // at their next input.
        let _stop = Stopping(budgets);
        store(&mut received, &give_back)
    })
}
