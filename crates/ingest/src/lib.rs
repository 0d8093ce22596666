//! Ingest: reads posts from a JSONL byte stream (contract section 1) and
//! turns every line into either a [`Post`] or a [`LineError`] naming the line
//! and the reason (contract section 5). A bad line never stops the stream.
//!
//! Lines are read with a hard size limit: an oversized line is skipped in
//! chunks without being held in memory, so one 10 MB line costs no more
//! memory than the limit.

use std::io::{self, BufRead};

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

/// Default maximum size of one input line, in bytes.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;

/// One post, as read from the input (contract section 1). Evaluation fields
/// (`labels`, `expected_action`, ...) are never read: they are the answers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Post {
    /// Unique post id.
    pub id: String,
    /// Account id of the poster.
    pub author: String,
    /// When it was posted.
    #[serde(deserialize_with = "rfc3339")]
    pub created_at: DateTime<FixedOffset>,
    /// The post body (may be empty).
    pub text: String,
    /// Language hint (BCP 47). A hint only: detection never depends on it.
    #[serde(default)]
    pub lang: Option<String>,
    /// Community / group / channel id.
    #[serde(default)]
    pub group: Option<String>,
    /// Id of the post this one replies to.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Attached media descriptions.
    #[serde(default)]
    pub media: Vec<Media>,
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    DateTime::parse_from_rfc3339(&raw).map_err(|e| {
        serde::de::Error::custom(format!(
            "field `created_at` is not an RFC 3339 timestamp ({e}): {raw:?}"
        ))
    })
}

/// The blank line set between the post's text and each media's OCR text in
/// [`Post::content`].
pub const CONTENT_SEPARATOR: &str = "\n\n";

impl Post {
    /// What detection reads: the post's `text`, then the text recognised in
    /// each of its media (`ocr_text`), each after [`CONTENT_SEPARATOR`]. A
    /// bounty poster posted as an image with an empty body is still read.
    /// Borrowed when no media carries text.
    pub fn content(&self) -> std::borrow::Cow<'_, str> {
        if !self
            .media
            .iter()
            .any(|m| m.ocr_text.as_deref().is_some_and(|t| !t.is_empty()))
        {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut out = self.text.clone();
        for t in self.media.iter().filter_map(|m| m.ocr_text.as_deref()) {
            if !t.is_empty() {
                out.push_str(CONTENT_SEPARATOR);
                out.push_str(t);
            }
        }
        std::borrow::Cow::Owned(out)
    }

    /// Where each part of [`Post::content`] starts, in characters: the
    /// post's text (`None`) at 0, then each media with OCR text
    /// (`Some(index in media)`), with its length in characters.
    pub fn content_parts(&self) -> Vec<(Option<usize>, usize, usize)> {
        let sep = CONTENT_SEPARATOR.chars().count();
        let mut parts = vec![(None, 0, self.text.chars().count())];
        let mut at = parts[0].2;
        for (i, m) in self.media.iter().enumerate() {
            if let Some(t) = m.ocr_text.as_deref().filter(|t| !t.is_empty()) {
                let len = t.chars().count();
                parts.push((Some(i), at + sep, len));
                at += sep + len;
            }
        }
        parts
    }
}

/// A media attachment; every field optional.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Media {
    /// `image`, `video`, ...
    #[serde(default)]
    pub kind: Option<String>,
    /// Hex SHA-256 of the file.
    #[serde(default)]
    pub sha256: Option<String>,
    /// 64-hex-digit PDQ perceptual hash.
    #[serde(default)]
    pub pdq: Option<String>,
    /// Text recognised in the image.
    #[serde(default)]
    pub ocr_text: Option<String>,
}

/// Why a line could not become a post.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineErrorKind {
    /// The bytes are not UTF-8.
    #[error("line is not valid UTF-8 (first bad byte at offset {0})")]
    InvalidUtf8(usize),
    /// The line exceeds the configured size limit.
    #[error("line is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Bytes in the line.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// Not a JSON object, or a field has the wrong type or is missing.
    #[error("{0}")]
    InvalidJson(String),
    /// The last line of the stream ended without a newline and is not valid.
    #[error("truncated last line: {0}")]
    Truncated(String),
}

/// A bad input line: its 1-based number and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct LineError {
    /// 1-based line number in the input.
    pub line: u64,
    /// What is wrong with it.
    pub kind: LineErrorKind,
}

/// One input line's outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A valid post, with its 1-based line number.
    Post(u64, Box<Post>),
    /// A bad line.
    Error(LineError),
}

/// Parses one line's bytes (without the newline) into a post.
pub fn parse_line(line_no: u64, bytes: &[u8]) -> Result<Post, LineError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LineError {
        line: line_no,
        kind: LineErrorKind::InvalidUtf8(e.valid_up_to()),
    })?;
    parse_json(text).map_err(|kind| LineError {
        line: line_no,
        kind,
    })
}

fn parse_json(text: &str) -> Result<Post, LineErrorKind> {
    let post: Post = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // serde's messages name the missing field ("missing field `author`")
        // and the column; keep them, they are what a user needs.
        LineErrorKind::InvalidJson(msg)
    })?;
    if post.id.is_empty() {
        return Err(LineErrorKind::InvalidJson("field `id` is empty".into()));
    }
    Ok(post)
}

/// Reads JSONL records from a buffered reader. Blank lines are skipped (they
/// are not posts and not errors); a final line without a newline is parsed
/// like any other, and reported as truncated if it does not parse.
pub struct JsonlReader<R> {
    inner: R,
    max_line_bytes: usize,
    line_no: u64,
    buf: Vec<u8>,
    done: bool,
    blank_lines: u64,
}

impl<R: BufRead> JsonlReader<R> {
    /// A reader with the default line limit.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, DEFAULT_MAX_LINE_BYTES)
    }

    /// A reader that rejects lines longer than `max_line_bytes`.
    pub fn with_limit(inner: R, max_line_bytes: usize) -> Self {
        JsonlReader {
            inner,
            max_line_bytes,
            line_no: 0,
            buf: Vec::new(),
            done: false,
            blank_lines: 0,
        }
    }

    /// Blank lines skipped so far.
    pub fn blank_lines(&self) -> u64 {
        self.blank_lines
    }

    /// Reads one raw line into `self.buf`, up to the limit. Returns
    /// `(bytes_seen, ended_with_newline)` or `None` at end of input.
    fn read_raw(&mut self) -> io::Result<Option<(usize, bool)>> {
        self.buf.clear();
        let mut seen = 0usize;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(if seen == 0 { None } else { Some((seen, false)) });
            }
            let (take, newline) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if self.buf.len() < self.max_line_bytes + 1 {
                let room = self.max_line_bytes + 1 - self.buf.len();
                self.buf.extend_from_slice(&chunk[..take.min(room)]);
            }
            seen += take;
            self.inner.consume(take + usize::from(newline));
            if newline {
                return Ok(Some((seen, true)));
            }
        }
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let (seen, newline) = match self.read_raw() {
                Ok(Some(x)) => x,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            self.line_no += 1;
            let line = self.line_no;
            if seen > self.max_line_bytes {
                let kind = LineErrorKind::TooLarge {
                    size: seen,
                    limit: self.max_line_bytes,
                };
                return Some(Ok(Record::Error(LineError { line, kind })));
            }
            let mut bytes: &[u8] = &self.buf;
            if bytes.last() == Some(&b'\r') {
                bytes = &bytes[..bytes.len() - 1];
            }
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                self.blank_lines += 1;
                continue;
            }
            return Some(Ok(match parse_line(line, bytes) {
                Ok(post) => Record::Post(line, Box::new(post)),
                Err(mut err) => {
                    if !newline {
                        if let LineErrorKind::InvalidJson(msg) = err.kind {
                            err.kind = LineErrorKind::Truncated(msg);
                        }
                    }
                    Record::Error(err)
                }
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        r#"{"id":"p1","author":"a1","created_at":"2025-10-14T00:00:17Z","text":"hola"}"#;

    fn read(input: &[u8], limit: usize) -> Vec<Record> {
        JsonlReader::with_limit(input, limit)
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn content_appends_media_text_and_parts_count_characters() {
        let line = r#"{"id":"p1","author":"a1","created_at":"2025-10-14T00:00:17Z","text":"mirá 👀","media":[{"kind":"image","ocr_text":"$5k por él"},{"kind":"image"},{"ocr_text":""},{"ocr_text":"dos"}]}"#;
        let p = parse_line(1, line.as_bytes()).unwrap();
        assert_eq!(p.content(), "mirá 👀\n\n$5k por él\n\ndos");
        let content: Vec<char> = p.content().chars().collect();
        let parts = p.content_parts();
        assert_eq!(
            parts,
            vec![(None, 0, 6), (Some(0), 8, 10), (Some(3), 20, 3)]
        );
        for (media, start, len) in parts {
            let want = match media {
                None => p.text.clone(),
                Some(i) => p.media[i].ocr_text.clone().unwrap(),
            };
            assert_eq!(content[start..start + len].iter().collect::<String>(), want);
        }
        // Without media text the body is borrowed as it is.
        let plain = parse_line(1, GOOD.as_bytes()).unwrap();
        assert!(matches!(
            plain.content(),
            std::borrow::Cow::Borrowed("hola")
        ));
        assert_eq!(plain.content_parts(), vec![(None, 0, 4)]);
    }

    #[test]
    fn reads_valid_posts_with_unknown_fields() {
        let line = r#"{"id":"p1","author":"a1","created_at":"2025-10-14T00:00:17Z","text":"hi","labels":["threat"],"media":[{"kind":"image"}]}"#;
        let recs = read(format!("{line}\n").as_bytes(), 1000);
        match &recs[0] {
            Record::Post(1, p) => {
                assert_eq!(p.id, "p1");
                assert_eq!(p.media.len(), 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_lines_are_named_and_the_rest_survive() {
        let input = format!(
            "{GOOD}\nnot json\n{{\"id\":\"p2\",\"text\":\"x\"}}\n\n   \n{}\n{GOOD}\n{{\"id\":\"p9\"",
            r#"{"id":"p3","author":"a","created_at":"yesterday","text":""}"#
        );
        let bytes = input.into_bytes();
        let recs = read(&bytes, 10_000);
        let posts = recs
            .iter()
            .filter(|r| matches!(r, Record::Post(..)))
            .count();
        assert_eq!(posts, 2);
        let errors: Vec<&LineError> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Error(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[1].to_string().contains("missing field `author`"),
            "{}",
            errors[1]
        );
        assert!(errors.iter().any(|e| e.to_string().contains("created_at")));
        assert!(matches!(
            errors.last().unwrap().kind,
            LineErrorKind::Truncated(_)
        ));
    }

    #[test]
    fn invalid_utf8_is_reported() {
        let mut input = GOOD.as_bytes().to_vec();
        input.push(b'\n');
        input.extend_from_slice(b"{\"id\":\"\xff\"}\n");
        input.extend_from_slice(GOOD.as_bytes());
        let recs = read(&input, 1000);
        assert!(matches!(
            &recs[1],
            Record::Error(LineError {
                line: 2,
                kind: LineErrorKind::InvalidUtf8(7)
            })
        ));
        assert!(matches!(&recs[2], Record::Post(3, _)));
    }

    #[test]
    fn oversized_line_is_skipped_without_losing_neighbours() {
        let big = format!(
            r#"{{"id":"big","author":"a","created_at":"2025-10-14T00:00:17Z","text":"{}"}}"#,
            "x".repeat(10 * 1024 * 1024)
        );
        let input = format!("{GOOD}\n{big}\n{GOOD}\n");
        let recs = read(input.as_bytes(), DEFAULT_MAX_LINE_BYTES);
        assert_eq!(recs.len(), 3);
        assert!(matches!(
            &recs[1],
            Record::Error(LineError {
                line: 2,
                kind: LineErrorKind::TooLarge { .. }
            })
        ));
        assert!(matches!(&recs[2], Record::Post(3, _)));
    }

    #[test]
    fn crlf_line_endings_are_accepted() {
        let input = format!("{GOOD}\r\n{GOOD}\r\n");
        assert_eq!(read(input.as_bytes(), 1000).len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_counts_lines(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let recs: Vec<_> = JsonlReader::with_limit(&data[..], 64).collect();
            for r in recs {
                proptest::prop_assert!(r.is_ok());
            }
        }
    }
}
