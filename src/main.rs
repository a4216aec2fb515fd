//! The `audio-streamer` binary: parse the flags, start logging, serve until interrupted (or manage
//! the users file).

use anyhow::Context as _;
use audio_streamer::config::{Args, Command, Config};
use clap::Parser as _;

fn main() {
    let args = Args::parse();
    if let Some(Command::User(command)) = &args.command {
        let Some(users) = &args.users else {
            eprintln!("audio-streamer: error: `user` needs --users FILE (or AUDIO_STREAMER_USERS)");
            std::process::exit(2);
        };
        let config = Config::from(args.clone());
        match audio_streamer::manage::user(command, users, &config) {
            Ok(said) => println!("{said}"),
            Err(err) => {
                eprintln!("audio-streamer: error: {err}");
                std::process::exit(1);
            }
        }
        return;
    }
    let config = Config::from(args);
    // lofty warns of every odd tag; symphonia's MP3 decoder of every frame whose bit reservoir
    // lies before a seek (the transcoder's warm-up decodes those and drops them).
    let filter = "info,lofty=error,symphonia_bundle_mp3=error";
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(filter)).init();
    if let Err(err) = run(config) {
        eprintln!("audio-streamer: error: {err:#}");
        std::process::exit(1);
    }
}

#[actix_web::main]
async fn run(config: Config) -> anyhow::Result<()> {
    let tls = config
        .tls
        .as_ref()
        .map(audio_streamer::Tls::load)
        .transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = audio_streamer::AppState::new(&config)?;
    let location = state.library.location().to_owned();
    let (server, addr) = audio_streamer::start(&config, state, tls)?;
    // Each stream holds two descriptors (socket and file): lift the soft limit to the hard one so
    // a default `ulimit -n 1024` does not cap listeners at ~500.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => log::info!("open file limit: {limit} (about {} streams)", limit / 2),
        Err(err) => log::warn!("could not raise the open file limit: {err}"),
    }
    log::info!("serving {location} at {scheme}://{addr}/");
    server.await.context("server stopped with an error")
}
