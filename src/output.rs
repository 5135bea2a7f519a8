//! Writing result files atomically: into a temporary file in the target's
//! folder, then renamed over the target, so a crash or a full disk never
//! leaves a half-written CSV or checkpoint where a good one was expected.

use std::io::Write;
use std::path::Path;

/// Write `path` atomically with the bytes `write` produces.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x.csv");
/// circssnn::output::write_atomic(&p, |w| writeln!(w, "a,b")).unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "a,b\n");
/// ```
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".circssnn-")
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    make_readable(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Write `rows` as a CSV with a header row, atomically.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Row { set: &'static str, auc: f64 }
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("auc.csv");
/// circssnn::output::write_csv_atomic(&p, &[Row { set: "QKI", auc: 0.9 }]).unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "set,auc\nQKI,0.9\n");
/// ```
pub fn write_csv_atomic<T: serde::Serialize>(path: &Path, rows: &[T]) -> std::io::Result<()> {
    write_atomic(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        for r in rows {
            c.serialize(r).map_err(std::io::Error::other)?;
        }
        c.flush()
    })
}

/// Temporary files are created owner-only (0600); results are for sharing.
pub(crate) fn make_readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
