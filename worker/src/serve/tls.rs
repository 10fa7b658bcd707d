//! TLS for `skillopt serve --tls-cert FILE --tls-key FILE`: the certificate chain and private
//! key (PEM) loaded into a rustls server configuration (ring, TLS 1.2 and 1.3, HTTP/1.1), so a
//! team can serve `https://` without a proxy in front. A file that is missing or holds no
//! certificate or key is a clear error at start, never at the first request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("--tls-cert {}: cannot read it", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--tls-cert {}: not PEM certificates", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("--tls-cert {}: no CERTIFICATE block in it", path.display());
    }
    Ok(certs)
}

fn private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let text = std::fs::read(path)
        .with_context(|| format!("--tls-key {}: cannot read it", path.display()))?;
    if text.windows(9).any(|w| w == b"ENCRYPTED") {
        anyhow::bail!(
            "--tls-key {}: an encrypted key; serve needs it unencrypted (openssl pkey -in KEY \
             -out PLAIN; keep PLAIN readable by the server's user only)",
            path.display()
        );
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "--tls-key {}: no PEM private key in it ({e})",
            path.display()
        )
    })
}

/// The server's TLS configuration.
pub fn server_config(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    let certs = certificates(&files.cert)?;
    let key = private_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("--tls-cert/--tls-key: the key does not fit the certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_empty_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not pem\n").unwrap();
        let files = |cert: &Path, key: &Path| TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        };
        let missing = dir.path().join("missing.pem");
        let e = server_config(&files(&missing, &empty)).unwrap_err();
        assert!(format!("{e:#}").contains("--tls-cert"), "{e:#}");
        let e = server_config(&files(&empty, &empty)).unwrap_err();
        assert!(format!("{e:#}").contains("no CERTIFICATE"), "{e:#}");
        // Only read as PEM before the key: its DER need not be a real certificate.
        let cert = dir.path().join("cert.pem");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let encrypted = dir.path().join("key.pem");
        std::fs::write(
            &encrypted,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = server_config(&files(&cert, &encrypted)).unwrap_err();
        assert!(format!("{e:#}").contains("an encrypted key"), "{e:#}");
    }
}
