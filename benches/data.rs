//! Latency of the listeners' data under load: a star, a play and a playlist append, each 5,000
//! times from 100 clients at once (tasks on two single-threaded runtimes, as actix's workers are),
//! on SQLite in a temp folder and on a PostgreSQL server of its own (testkit's, with fsync off).
//! Prints p50, p99 and the slowest per operation, as a Markdown table.
//!
//! `cargo bench --bench data` (PostgreSQL is skipped, saying so, when it is not installed).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use audio_streamer::config::Database;
use audio_streamer::data::{Data, Kind, PlaylistEdit};

const CLIENTS: usize = 100;
const EACH: usize = 50;
const WORKERS: usize = 2;

#[derive(Clone, Copy)]
enum Op {
    Star,
    Play,
    Append,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Star => "star a track",
            Op::Play => "record a play",
            Op::Append => "append to a playlist",
        }
    }
}

fn main() {
    println!("| backend | operation | p50 | p99 | slowest | operations/s |");
    println!("|---|---|---|---|---|---|");
    let tmp = tempfile::tempdir().unwrap();
    let sqlite = Data::open(&Database::Sqlite(tmp.path().to_owned())).unwrap();
    run("SQLite", &sqlite);
    drop(sqlite);
    if let Some(pg) = testkit::Postgres::start() {
        let postgres = Data::open(&Database::Postgres(pg.url())).unwrap();
        run("PostgreSQL", &postgres);
    }
}

fn run(backend: &str, data: &Data) {
    // One playlist per client, made beforehand.
    let mut made = on_workers(data, |data, client| async move {
        let list = data
            .create_playlist(&user(client), "bench", Vec::new())
            .await
            .unwrap();
        vec![(client, list.id)]
    });
    made.sort_unstable();
    let lists: Arc<Vec<String>> = Arc::new(made.into_iter().map(|(_, id)| id).collect());
    for op in [Op::Star, Op::Play, Op::Append] {
        let lists = Arc::clone(&lists);
        let started = Instant::now();
        let mut took: Vec<Duration> = on_workers(data, move |data, client| {
            let lists = Arc::clone(&lists);
            async move {
                let mut took = Vec::with_capacity(EACH);
                for i in 0..EACH {
                    let track = format!("tr-{client}-{i}");
                    let at = Instant::now();
                    match op {
                        Op::Star => data.star(&user(client), Kind::Track, &track).await,
                        Op::Play => {
                            data.record_play(&user(client), &track, SystemTime::now())
                                .await
                        }
                        Op::Append => data
                            .edit_playlist(
                                &user(client),
                                &lists[client],
                                PlaylistEdit {
                                    append: vec![track],
                                    ..Default::default()
                                },
                            )
                            .await
                            .map(drop),
                    }
                    .unwrap();
                    took.push(at.elapsed());
                }
                took
            }
        });
        let wall = started.elapsed();
        took.sort_unstable();
        let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
        println!(
            "| {backend} | {} | {} | {} | {} | {:.0} |",
            op.name(),
            ms(at(0.50)),
            ms(at(0.99)),
            ms(*took.last().unwrap()),
            took.len() as f64 / wall.as_secs_f64()
        );
    }
}

/// Runs `client` for each of [`CLIENTS`] clients, spread over [`WORKERS`] threads with a
/// single-threaded runtime each, and gathers what they return.
fn on_workers<T, F, Fut>(data: &Data, client: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Data, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Vec<T>> + 'static,
{
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let (data, client) = (data.clone(), client.clone());
                s.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&runtime, async move {
                        let tasks: Vec<_> = (worker..CLIENTS)
                            .step_by(WORKERS)
                            .map(|c| tokio::task::spawn_local(client(data.clone(), c)))
                            .collect();
                        let mut all = Vec::new();
                        for task in tasks {
                            all.extend(task.await.unwrap());
                        }
                        all
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

fn user(client: usize) -> String {
    format!("listener-{client}")
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
