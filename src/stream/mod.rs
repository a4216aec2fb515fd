//! Which bytes of a track go out, and how: the `Range` header and its plan ([`range`]), the
//! `multipart/byteranges` layout, the pump that reads the file into chunks sized by the socket's
//! room, the socket facts it sizes them by, and the send-timeout watchdog; `remote` sends a track
//! not cached yet from the object store. No HTTP framework here: `http::body` wraps the pumps for
//! actix.

mod chunks;
mod multipart;
mod pump;
pub(crate) mod range;
mod remote;
mod socket;
mod watchdog;

pub(crate) use self::multipart::Multipart;
pub(crate) use self::pump::{Delivery, Pump, Segment};
pub(crate) use self::remote::StorePump;
pub(crate) use self::socket::{ConnSocket, listen};
pub(crate) use self::watchdog::Watchdog;
