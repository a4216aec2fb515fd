//! `audio-streamer user add|remove|list|cap`: manages the users file. A password is read from the
//! terminal without echo, twice, or as one line of standard input when that is not a terminal
//! (for scripts: `printf '%s\n' "$PASSWORD" | audio-streamer --users users user add alice`).

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;

use crate::auth::{AuthError, Users};
use crate::config::UserCommand;

/// Runs `command` on the users file at `path`; returns what to tell the person.
pub fn user(command: &UserCommand, path: &Path) -> Result<String, AuthError> {
    let mut users = Users::read(path)?;
    match command {
        UserCommand::List => Ok(users.names().collect::<Vec<_>>().join("\n")),
        UserCommand::Add { name } => {
            if !crate::auth::valid_name(name) {
                return Err(AuthError::BadName(name.clone()));
            }
            let password = read_password(name)?;
            users.add(name, &password)?;
            users.write(path)?;
            Ok(format!("added {name} to {}", path.display()))
        }
        UserCommand::Cap { name, kbps } => {
            users.set_cap(name, kbps.0)?;
            users.write(path)?;
            Ok(match kbps.0 {
                Some(kbps) => format!("{name} is streamed at {kbps} kbit/s at most"),
                None => format!("{name} is streamed at any bit rate"),
            })
        }
        UserCommand::Remove { name } => {
            users.remove(name)?;
            users.write(path)?;
            Ok(format!("removed {name} from {}", path.display()))
        }
    }
}

fn read_password(name: &str) -> Result<String, AuthError> {
    let unreadable = |reason| AuthError::File {
        action: "read",
        path: "the terminal".into(),
        reason,
    };
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("Password for {name}: ")).map_err(unreadable)?;
        let again = rpassword::prompt_password("Again: ").map_err(unreadable)?;
        if first != again {
            return Err(AuthError::BadPassword("the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(unreadable)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
