//! HTTPS: the certificate chain and private key, read from PEM files at start-up into a rustls
//! configuration (ring's primitives, TLS 1.2 and 1.3). actix adds ALPN for HTTP/2 and HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// Why the server cannot start with the TLS files it was given.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or held no PEM of the kind asked for.
    #[error("cannot read the TLS {what} {}: {reason}", path.display())]
    Pem {
        /// "certificate" or "key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: pem::Error,
    },
    /// The certificate file held no certificate.
    #[error("no certificate in {}", .0.display())]
    NoCertificate(PathBuf),
    /// rustls refused the pair (a key that does not match the certificate, an unsupported key).
    #[error("cannot use the TLS certificate {} with its key: {reason}", path.display())]
    Rejected {
        /// The certificate file.
        path: PathBuf,
        /// rustls' reason.
        reason: rustls::Error,
    },
}

/// The server's TLS settings, read and checked: what [`crate::start`] serves HTTPS with.
#[derive(Debug)]
pub struct Tls(pub(super) ServerConfig);

impl Tls {
    /// Reads the certificate chain and key of `files`.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        load(files).map(Self)
    }
}

fn load(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| pem_error("certificate", &files.cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error("certificate", &files.cert, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| pem_error("key", &files.key, e))?;
    let rejected = |reason| TlsError::Rejected {
        path: files.cert.clone(),
        reason,
    };
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(rejected)
}

fn pem_error(what: &'static str, path: &Path, reason: pem::Error) -> TlsError {
    TlsError::Pem {
        what,
        path: path.to_owned(),
        reason,
    }
}
