//! Who may ask: the bearer token from `--token-file`, checked on every call in constant time and
//! re-read when the server gets SIGHUP. JDBC and ODBC clients that send a user name and password
//! (HTTP Basic) are let in when the password is the token.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

use crate::error::{Error, Result};

/// The token the server accepts, if it takes one; shared with the interceptor.
#[derive(Clone)]
pub struct Tokens {
    file: Option<PathBuf>,
    /// SHA-256 of the token: comparing digests takes the same time whatever the guess.
    digest: Arc<RwLock<Option<[u8; 32]>>>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equal digests, compared without an early exit.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn read_token(path: &Path) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(Error::Usage(format!("--token-file {}: the file must hold one token: a single line without spaces", path.display())));
    }
    Ok(digest(token.as_bytes()))
}

impl Tokens {
    /// Reads `--token-file`, when given.
    pub fn load(file: Option<&Path>) -> Result<Tokens> {
        let digest = file.map(read_token).transpose()?;
        Ok(Tokens { file: file.map(Path::to_path_buf), digest: Arc::new(RwLock::new(digest)) })
    }

    pub fn required(&self) -> bool {
        self.file.is_some()
    }

    /// Reads the token file again (SIGHUP); a file that cannot be read keeps the old token.
    pub fn reload(&self) -> Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let fresh = read_token(file)?;
        *self.digest.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        Ok(())
    }

    fn accepts(&self, token: &[u8]) -> bool {
        let guard = self.digest.read().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().is_none_or(|expected| same(expected, &digest(token)))
    }

    /// The interceptor every Flight call passes: `authorization: Bearer TOKEN`, or Basic with the
    /// token as the password.
    #[allow(clippy::result_large_err)] // tonic's interceptor signature
    pub fn check(&self, request: Request<()>) -> std::result::Result<Request<()>, Status> {
        if !self.required() {
            return Ok(request);
        }
        let header = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token = if let Some(token) = header.strip_prefix("Bearer ") {
            token.as_bytes().to_vec()
        } else if let Some(basic) = header.strip_prefix("Basic ") {
            decode_basic_password(basic.trim()).unwrap_or_default()
        } else {
            return Err(Status::unauthenticated("this server needs a token: send `authorization: Bearer TOKEN`"));
        };
        if self.accepts(&token) { Ok(request) } else { Err(Status::unauthenticated("the token is not the server's")) }
    }
}

/// The token in an `authorization` header: a bearer token, or the password of Basic.
pub fn bearer_of(header: &str) -> Option<String> {
    if let Some(token) = header.strip_prefix("Bearer ") {
        return Some(token.to_string());
    }
    let password = decode_basic_password(header.strip_prefix("Basic ")?.trim())?;
    String::from_utf8(password).ok()
}

/// The password of an HTTP Basic credential (`base64(user:password)`).
fn decode_basic_password(text: &str) -> Option<Vec<u8>> {
    let decoded = base64_decode(text)?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

/// Standard base64 with padding, as HTTP Basic uses; None for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let padding = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if padding > 2 {
            return None;
        }
        let mut n = 0u32;
        for c in &chunk[..4 - padding] {
            n = (n << 6) | value(*c)?;
        }
        n <<= 6 * padding as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend(&three[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(header: &str) -> Request<()> {
        let mut request = Request::new(());
        request.metadata_mut().insert("authorization", header.parse().unwrap());
        request
    }

    #[test]
    fn takes_the_token_as_bearer_or_basic_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cret-token\n").unwrap();
        let tokens = Tokens::load(Some(&file)).unwrap();
        assert!(tokens.check(with("Bearer s3cret-token")).is_ok());
        // base64("dbeaver:s3cret-token")
        assert!(tokens.check(with("Basic ZGJlYXZlcjpzM2NyZXQtdG9rZW4=")).is_ok());
        assert!(tokens.check(with("Bearer s3cret-tokeN")).is_err());
        assert!(tokens.check(with("Basic ZGJlYXZlcjp3cm9uZw==")).is_err(), "dbeaver:wrong");
        assert!(tokens.check(Request::new(())).is_err());

        std::fs::write(&file, "rotated\n").unwrap();
        tokens.reload().unwrap();
        assert!(tokens.check(with("Bearer s3cret-token")).is_err());
        assert!(tokens.check(with("Bearer rotated")).is_ok());
        std::fs::write(&file, "two words\n").unwrap();
        assert!(tokens.reload().is_err());
        assert!(tokens.check(with("Bearer rotated")).is_ok(), "a bad file keeps the old token");
    }

    #[test]
    fn without_a_token_file_lets_every_call_in() {
        assert!(Tokens::load(None).unwrap().check(Request::new(())).is_ok());
    }

    #[test]
    fn decodes_base64_as_http_basic_writes_it() {
        assert_eq!(base64_decode("YTpi").unwrap(), b"a:b");
        assert_eq!(base64_decode("YTpiYw==").unwrap(), b"a:bc");
        assert_eq!(base64_decode("YTpiY2Q=").unwrap(), b"a:bcd");
        assert!(base64_decode("YTp").is_none());
        assert!(base64_decode("Y$pi").is_none());
    }
}
