//! Reading FASTA or FASTQ (plain or gzipped, multi-line, any case) into
//! validated [`Record`]s, all at once ([`read_records`]) or streamed one at a
//! time ([`open`], [`from_reader`]). Parsing is needletail's; this module only adds what the
//! model needs on top: alphabet normalisation, window length, and errors that
//! name the file and record.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use needletail::errors::ParseErrorKind;
use needletail::parse_fastx_reader;

use super::sequence::{normalise_base, LengthPolicy, WINDOW};
use crate::error::{DataError, Result};

/// One validated sequence window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// First word of the header (e.g. `hsa_circ_0000004`), trailing `;` removed.
    pub id: String,
    /// The whole header line without `>`, leading spaces removed.
    pub header: String,
    /// Normalised bases (`A C G U N`), exactly [`WINDOW`] long unless read
    /// with [`read_any_length`].
    pub seq: Vec<u8>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Read every record of `path`, normalised and fitted to the 101-nt window
/// according to `policy`.
///
/// ```no_run
/// use circssnn::data::{fasta::read_records, sequence::LengthPolicy};
/// let recs = read_records("data/benchmark/circRNA-RBP/WTAP/positive.gz".as_ref(), LengthPolicy::STRICT)?;
/// println!("{} windows, first {}", recs.len(), recs[0].id);
/// # Ok::<(), circssnn::DataError>(())
/// ```
pub fn read_records(path: &Path, policy: LengthPolicy) -> Result<Vec<Record>> {
    read_with(path, |n, rec| {
        let len = rec.seq.len();
        match policy.fit(rec.seq, WINDOW) {
            Some(seq) => Ok(Record { seq, ..rec }),
            None => Err(DataError::WrongLength {
                path: path.to_path_buf(),
                record: n,
                id: rec.id,
                len,
                expected: WINDOW,
            }),
        }
    })
}

/// Read every record of `path`, normalised but of any length (for statistics).
pub fn read_any_length(path: &Path) -> Result<Vec<Record>> {
    read_with(path, |_, rec| Ok(rec))
}

fn read_with(
    path: &Path,
    mut check: impl FnMut(usize, Record) -> Result<Record>,
) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for rec in open(path)? {
        let rec = rec?;
        out.push(check(out.len() + 1, rec)?);
    }
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Bytes read ahead to recognise gzip and classic-Mac line ends.
const SNIFF: usize = 64 * 1024;

/// The records of a FASTA or FASTQ stream, normalised, of any length, one
/// at a time: memory does not grow with the number of records.
pub struct Records {
    reader: Box<dyn needletail::FastxReader>,
    /// Name used in errors (the file's path, or what the caller passed).
    path: std::path::PathBuf,
    is_gzip: bool,
    n: usize,
    failed: bool,
}

/// Stream the records of `path` (plain or gzipped FASTA/FASTQ).
///
/// ```no_run
/// let mut n = 0;
/// for rec in circssnn::data::fasta::open("transcripts.fa.gz".as_ref())? {
///     let rec = rec?;
///     n += rec.seq.len();
/// }
/// # Ok::<(), circssnn::DataError>(())
/// ```
pub fn open(path: &Path) -> Result<Records> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_reader(path, file)
}

/// Stream the records of `reader` (plain or gzipped FASTA/FASTQ); errors
/// name `path`.
pub fn from_reader(path: &Path, mut reader: impl Read + Send + 'static) -> Result<Records> {
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(SNIFF);
    (&mut reader)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let is_gzip = head.starts_with(&GZIP_MAGIC);
    if !is_gzip && head.contains(&b'\r') && !head.contains(&b'\n') {
        return Err(DataError::Parse {
            path: path.to_path_buf(),
            record: 1,
            format: "FASTA",
            message: "its lines end in a bare carriage return (classic Mac line ends); convert \
                      them to newlines first, e.g. `tr '\\r' '\\n' < in.fa > out.fa`"
                .into(),
        });
    }
    let stream = std::io::Cursor::new(head).chain(reader);
    let reader = parse_fastx_reader(stream).map_err(|e| match e.kind {
        // needletail reports a gzip stream that ends before its first byte as
        // "empty"; for a file that starts with the gzip magic that means corruption.
        ParseErrorKind::EmptyFile if is_gzip => DataError::Parse {
            path: path.to_path_buf(),
            record: 1,
            format: "gzip",
            message: "corrupt or truncated gzip stream".into(),
        },
        ParseErrorKind::EmptyFile => DataError::Empty {
            path: path.to_path_buf(),
        },
        _ => parse_error(path, 1, &e, is_gzip),
    })?;
    Ok(Records {
        reader,
        path: path.to_path_buf(),
        is_gzip,
        n: 0,
        failed: false,
    })
}

impl Iterator for Records {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.reader.next()?;
        self.n += 1;
        let r = next
            .map_err(|e| parse_error(&self.path, self.n, &e, self.is_gzip))
            .and_then(|rec| normalise(&self.path, self.n, rec.id(), &rec.seq()));
        self.failed = r.is_err();
        Some(r)
    }
}

/// A validated record from a parsed header and sequence.
fn normalise(path: &Path, n: usize, raw_header: &[u8], raw: &[u8]) -> Result<Record> {
    let header = String::from_utf8_lossy(raw_header).trim_start().to_string();
    let id = header
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_string();
    let mut seq = Vec::with_capacity(raw.len());
    for (i, &b) in raw.iter().enumerate() {
        match normalise_base(b) {
            Some(c) => seq.push(c),
            None => {
                return Err(DataError::UnknownBase {
                    path: path.to_path_buf(),
                    record: n,
                    id,
                    position: i + 1,
                    base: show_byte(b),
                })
            }
        }
    }
    Ok(Record { id, header, seq })
}

/// A byte as a reader can recognise it: `'X'` when printable ASCII, else its
/// value (a UTF-8 letter is two or more bytes, none of them a base).
fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02X} (not a printable ASCII letter)")
    }
}

/// needletail's error, with what it means where needletail says nothing.
fn parse_error(
    path: &Path,
    record: usize,
    e: &needletail::errors::ParseError,
    is_gzip: bool,
) -> DataError {
    let what = match e.kind {
        ParseErrorKind::UnexpectedEnd => {
            "the input ends inside a record: a header with no sequence line after it, an empty \
             record, or a truncated file"
        }
        ParseErrorKind::UnknownFormat => "the file starts with neither '>' (FASTA) nor '@' (FASTQ)",
        ParseErrorKind::InvalidStart => "a record does not start with '>' (FASTA) or '@' (FASTQ)",
        ParseErrorKind::InvalidSeparator => "the FASTQ separator line does not start with '+'",
        ParseErrorKind::UnequalLengths => "the FASTQ sequence and quality lines differ in length",
        ParseErrorKind::Io => "the input could not be read",
        ParseErrorKind::EmptyFile => "no records",
    };
    let mut message = if e.msg.trim().is_empty() {
        what.to_string()
    } else {
        e.msg.trim().to_string()
    };
    if e.position.line > 0 {
        message.push_str(&format!(" (line {})", e.position.line));
    }
    if is_gzip {
        message.push_str(" (the gzip stream may be corrupt or truncated)");
    }
    DataError::Parse {
        path: path.to_path_buf(),
        record,
        format: match e.format {
            _ if e.kind == ParseErrorKind::UnknownFormat => "FASTA/FASTQ",
            Some(needletail::parser::Format::Fastq) => "FASTQ",
            Some(needletail::parser::Format::Fasta) => "FASTA",
            None => "FASTA/FASTQ",
        },
        message,
    }
}
