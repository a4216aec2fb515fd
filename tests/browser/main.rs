//! The page as people use it, in a real headless Chromium (Debian's `chromium`) driven over the
//! DevTools protocol: list, play, seek, two players, the live memory readout, new files, keyboard,
//! signing in and sharing a link, and the rows themselves (one markup, fitting every width).
//!
//! Without Chromium (or sox, which makes the fixtures) these tests print one line saying how to
//! install it and pass as skipped; with `CI=true` a missing browser is a failure. On failure, a
//! screenshot and the browser's console log are saved under `target/browser-failures/<test>/`.
//!
//! `harness.rs` starts the browser, the server and the fixtures and keeps the journal; each other
//! file holds the scenarios of one part of the page.

mod access;
mod audit;
mod catalog;
mod controls;
mod harness;
mod live;
mod playback;
mod rows;
mod scale;
mod transcode;
