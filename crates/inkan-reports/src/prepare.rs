//! Reading ahead of the store: a helper thread reads, hashes, archives and parses the small
//! inputs of a batch while the ingesting thread stores the ones before them. Each small input
//! becomes a [`Prepared`] value (its digest, its compressed archive chunks and every report in
//! it, parsed); a large input, or one whose reports hold too many records to keep in memory,
//! is passed on as read so that the ingesting thread streams it itself.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::aggregate::{
    AggregateHeader, AggregateReader, AggregateTrailer, Record, record_list, recycle_here,
};
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
/// Inputs prepared ahead of the store at most.
const AHEAD: usize = 32;

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
        let mut records = record_list();
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
    std::thread::scope(|scope| {
        let mut channels = Vec::with_capacity(readers);
        let mut returns = Vec::with_capacity(readers);
        for first in 0..readers {
            let (tx, rx) = mpsc::sync_channel::<Ahead>(AHEAD.div_ceil(readers));
            let (back_tx, back_rx) = mpsc::channel::<Vec<Record>>();
            channels.push(rx);
            returns.push(back_tx);
            scope.spawn(move || {
                let mut archiver = Archiver::default();
                for path in files.iter().skip(first).step_by(readers) {
                    while let Ok(spent) = back_rx.try_recv() {
                        recycle_here(spent);
                    }
                    if tx.send(prepare(path, limits, &mut archiver)).is_err() {
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
        let mut received = (0..files.len())
            .map_while(|index| Some((index, channels[index % readers].recv().ok()?)));
        // Dropping the receivers (with `channels`) when the store returns stops the readers.
        store(&mut received, &give_back)
    })
}
