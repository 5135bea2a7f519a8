//! Reading FASTA (plain or gzipped, multi-line, any case) into validated
//! [`Record`]s. Parsing is needletail's; this module only adds what the
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
/// let recs = read_records("data/datasets/circRNA-RBP/WTAP/positive".as_ref(), LengthPolicy::STRICT)?;
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
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 2];
    let is_gzip = file.read(&mut magic).map_err(io_err)? == 2 && magic == GZIP_MAGIC;
    let file = File::open(path).map_err(io_err)?;

    let mut reader = parse_fastx_reader(file).map_err(|e| match e.kind {
        // needletail reports a gzip stream that ends before its first byte as
        // "empty"; for a file that starts with the gzip magic that means corruption.
        ParseErrorKind::EmptyFile if is_gzip => DataError::Parse {
            path: path.to_path_buf(),
            record: 1,
            message: "corrupt or truncated gzip stream".into(),
        },
        ParseErrorKind::EmptyFile => DataError::Empty {
            path: path.to_path_buf(),
        },
        _ => DataError::Parse {
            path: path.to_path_buf(),
            record: 1,
            message: describe(&e.msg, is_gzip),
        },
    })?;

    let mut out = Vec::new();
    while let Some(next) = reader.next() {
        let n = out.len() + 1;
        let rec = next.map_err(|e| DataError::Parse {
            path: path.to_path_buf(),
            record: n,
            message: describe(&e.msg, is_gzip),
        })?;
        let header = String::from_utf8_lossy(rec.id()).trim_start().to_string();
        let id = header
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(';')
            .to_string();
        let raw = rec.seq();
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
                        base: b as char,
                    })
                }
            }
        }
        out.push(check(n, Record { id, header, seq })?);
    }
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn describe(msg: &str, is_gzip: bool) -> String {
    if is_gzip {
        format!("{msg} (the gzip stream may be corrupt or truncated)")
    } else {
        msg.to_string()
    }
}
