//! A line reader with a hard per-line cap: an over-long line is consumed and reported as `None`
//! without being buffered whole, and invalid UTF-8 is replaced rather than fatal.

use std::io::BufRead;

/// Reads `\n`-terminated lines, numbering them from 1.
pub struct LineReader<R> {
    inner: R,
    cap: usize,
    lineno: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, cap: usize) -> Self {
        Self {
            inner,
            cap,
            lineno: 0,
            buf: Vec::new(),
        }
    }

    /// The next line: `Some((n, Some(text)))`, `Some((n, None))` for a line over the cap, `None`
    /// at EOF.
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, Option<String>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > self.cap {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.lineno += 1;
        if too_long {
            return Ok(Some((self.lineno, None)));
        }
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        Ok(Some((self.lineno, Some(text))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_long_lines_and_keeps_counting() {
        let data = format!("a\n{}\nb", "x".repeat(100));
        let mut r = LineReader::new(std::io::Cursor::new(data), 10);
        assert_eq!(r.next_line().unwrap(), Some((1, Some("a\n".into()))));
        assert_eq!(r.next_line().unwrap(), Some((2, None)));
        assert_eq!(r.next_line().unwrap(), Some((3, Some("b".into()))));
        assert_eq!(r.next_line().unwrap(), None);
    }
}
