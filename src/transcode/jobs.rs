//! Where transcodes run: a few threads of their own (one per core, at a lower priority than the
//! HTTP workers, so that transcodes cannot starve plain streams), a queue of work, and the cap on
//! transcodes at once.
//!
//! A [`Job`] is one answer's transcode. Its body asks for the bytes at an offset; the job queues
//! the segment holding it, and a thread makes that segment, handing each piece over as it is made
//! (waking the body). Between segments nothing runs and no pipeline is held: a listener who stops
//! reading costs the rest of one segment's bytes, and after [`IDLE`] not even those (the job keeps
//! only where it is, and makes the segment again when asked). A job whose body is dropped stops at
//! its next piece.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Error, Facts, Plan, Source};

/// A body that takes nothing for this long gives its made bytes back.
pub const IDLE: Duration = Duration::from_secs(5);
/// Facts remembered for this many sources at most.
const FACTS_KEPT: usize = 4096;

/// The transcoding threads, shared by every request.
#[derive(Debug)]
pub struct Transcoder {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<Task>>,
    work: Condvar,
    /// Jobs alive (their permits).
    running: AtomicUsize,
    max: usize,
    facts: Mutex<HashMap<String, Facts>>,
    jobs: Mutex<Vec<Weak<Job>>>,
    damaged: AtomicU64,
    refused: AtomicU64,
}

#[derive(Debug)]
enum Task {
    Facts(Source, tokio::sync::oneshot::Sender<Result<Facts, Error>>),
    Segment(Arc<Job>, u64),
}

/// Counts for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Transcodes running now.
    pub running: usize,
    /// Transcodes ended early by a damaged source.
    pub damaged: u64,
    /// Requests refused past the cap.
    pub refused: u64,
}

/// A transcode's place under the cap, held for as long as it runs.
#[derive(Debug)]
pub struct Permit {
    shared: Weak<Shared>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.running.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Transcoder {
    /// `threads` threads running at most `max` transcodes at once.
    pub fn start(threads: usize, max: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            work: Condvar::new(),
            running: AtomicUsize::new(0),
            max,
            facts: Mutex::new(HashMap::new()),
            jobs: Mutex::new(Vec::new()),
            damaged: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        for n in 0..threads.max(1) {
            let weak = Arc::downgrade(&shared);
            std::thread::Builder::new()
                .name(format!("transcode-{n}"))
                .stack_size(512 * 1024)
                .spawn(move || work(&weak))?;
        }
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("transcode-idle".into())
            .stack_size(64 * 1024)
            .spawn(move || sweep(&weak))?;
        Ok(Self { shared })
    }

    /// A place for one more transcode, unless `max` run already.
    pub fn admit(&self) -> Option<Permit> {
        let shared = &self.shared;
        let admitted = shared
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < shared.max).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(Permit {
            shared: Arc::downgrade(shared),
        })
    }

    /// The facts of `source`, known as `key` (which must change whenever its bytes do): read on a
    /// transcoding thread the first time, then remembered.
    pub async fn facts(&self, key: &str, source: Source) -> Result<Facts, Error> {
        if let Some(facts) = lock(&self.shared.facts).get(key) {
            return Ok(*facts);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.shared.push(Task::Facts(source, tx));
        let facts = rx
            .await
            .map_err(|_| Error::Io(std::io::Error::other("the transcoder stopped")))??;
        let mut kept = lock(&self.shared.facts);
        if kept.len() >= FACTS_KEPT {
            kept.clear();
        }
        kept.insert(key.to_owned(), facts);
        Ok(facts)
    }

    /// A job making `plan` from `source`, under `permit`.
    pub fn job(&self, plan: Plan, source: Source, permit: Permit) -> Arc<Job> {
        let job = Arc::new(Job {
            plan,
            source,
            shared: Arc::downgrade(&self.shared),
            state: Mutex::new(State::default()),
            _permit: permit,
        });
        let mut jobs = lock(&self.shared.jobs);
        jobs.retain(|job| job.strong_count() > 0);
        jobs.push(Arc::downgrade(&job));
        job
    }

    /// The counts for the metrics.
    pub fn counts(&self) -> Counts {
        Counts {
            running: self.shared.running.load(Ordering::Acquire),
            damaged: self.shared.damaged.load(Ordering::Relaxed),
            refused: self.shared.refused.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Transcoder {
    fn drop(&mut self) {
        // The threads hold the shared state weakly: wake them to see it gone.
        self.shared.work.notify_all();
    }
}

impl Shared {
    fn push(&self, task: Task) {
        lock(&self.queue).push_back(task);
        self.work.notify_one();
    }
}

/// A transcoding thread: takes tasks until the transcoder is dropped.
fn work(shared: &Weak<Shared>) {
    lower_priority();
    loop {
        let task = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let mut queue = lock(&shared.queue);
            loop {
                if let Some(task) = queue.pop_front() {
                    break task;
                }
                let (next, _) = shared
                    .work
                    .wait_timeout(queue, Duration::from_secs(1))
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                queue = next;
                if Arc::strong_count(&shared) == 1 {
                    return;
                }
            }
        };
        match task {
            Task::Facts(source, tx) => {
                let _ = tx.send(Facts::read(&source));
            }
            Task::Segment(job, segment) => job.make(segment),
        }
    }
}

/// Gives made bytes back from jobs whose bodies have taken nothing for [`IDLE`].
fn sweep(shared: &Weak<Shared>) {
    loop {
        std::thread::sleep(IDLE / 5);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let jobs: Vec<Arc<Job>> = lock(&shared.jobs)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for job in jobs {
            let mut state = lock(&job.state);
            if !state.making
                && !state.pieces.is_empty()
                && state.taken.is_some_and(|at| at.elapsed() >= IDLE)
            {
                state.forget();
            }
        }
    }
}

/// Runs this thread below the HTTP workers (nice 10), so that a machine busy transcoding still
/// serves plain streams first.
fn lower_priority() {
    let tid = rustix::thread::gettid();
    if let Err(err) = rustix::process::setpriority_process(Some(tid), 10) {
        log::debug!("transcoding threads keep the server's priority: {err}");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One answer's transcode.
#[derive(Debug)]
pub struct Job {
    plan: Plan,
    source: Source,
    shared: Weak<Shared>,
    state: Mutex<State>,
    _permit: Permit,
}

#[derive(Debug, Default)]
struct State {
    /// Made bytes not yet taken, contiguous from `from`.
    pieces: VecDeque<Bytes>,
    from: u64,
    /// Just past the last byte made.
    made_to: u64,
    /// Whether a segment is queued or being made.
    making: bool,
    /// The body waiting for bytes.
    waker: Option<Waker>,
    failed: Option<String>,
    closed: bool,
    /// When the body last took bytes or asked for a segment.
    taken: Option<Instant>,
}

impl State {
    /// Drops the made bytes; the next ask makes them again.
    fn forget(&mut self) {
        self.pieces = VecDeque::new();
        self.made_to = self.from;
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl Job {
    /// The next bytes at `offset`, at most `len` of them; pending until they are made.
    pub fn poll_bytes(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<Result<Bytes, String>> {
        let mut guard = lock(&self.state);
        let state = &mut *guard;
        if let Some(err) = &state.failed {
            return Poll::Ready(Err(err.clone()));
        }
        // Bytes before the offset are not wanted any more.
        while let Some(front) = state.pieces.front() {
            let end = state.from + front.len() as u64;
            if end > offset {
                break;
            }
            state.from = end;
            state.pieces.pop_front();
        }
        if state.from <= offset && offset < state.made_to {
            let skip = (offset - state.from) as usize;
            let front = state.pieces.front_mut().expect("made bytes are held");
            let n = (front.len() - skip).min(usize::try_from(len).unwrap_or(usize::MAX));
            let bytes = front.slice(skip..skip + n);
            if skip + n == front.len() {
                state.pieces.pop_front();
            } else {
                *front = front.slice(skip + n..);
            }
            state.from = offset + n as u64;
            state.taken = Some(Instant::now());
            return Poll::Ready(Ok(bytes));
        }
        if !state.making {
            // Nothing held for this offset: make the segment holding it, from it on.
            state.pieces.clear();
            state.from = offset;
            state.made_to = offset;
            state.making = true;
            state.taken = Some(Instant::now());
            let segment = self.plan.layout.segment_at(offset);
            let Some(shared) = self.shared.upgrade() else {
                return Poll::Ready(Err("the transcoder stopped".into()));
            };
            shared.push(Task::Segment(Arc::clone(self), segment));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Stops the job: its body is gone.
    pub fn close(&self) {
        let mut state = lock(&self.state);
        state.closed = true;
        state.forget();
    }

    /// Makes `segment` from the offset asked, handing each piece to the body.
    fn make(self: &Arc<Self>, segment: u64) {
        let skip_to = {
            let mut state = lock(&self.state);
            if state.closed {
                state.making = false;
                return;
            }
            state.made_to
        };
        let mut at = self.plan.layout.segment_bytes(segment).start;
        let made = self.plan.make(&self.source, segment, |piece| {
            let start = at;
            at += piece.len() as u64;
            let mut state = lock(&self.state);
            if state.closed {
                return false;
            }
            if at <= skip_to {
                return true;
            }
            let mut piece = Bytes::from(piece);
            if start < skip_to {
                piece = piece.slice((skip_to - start) as usize..);
            }
            state.pieces.push_back(piece);
            state.made_to = at;
            state.wake();
            true
        });
        let mut state = lock(&self.state);
        state.making = false;
        if let Err(err) = made {
            if matches!(err, Error::Corrupt(_))
                && let Some(shared) = self.shared.upgrade()
            {
                shared.damaged.fetch_add(1, Ordering::Relaxed);
            }
            log::warn!("transcode stopped at byte {at}: {err}");
            state.failed = Some(err.to_string());
        }
        state.wake();
    }
}
