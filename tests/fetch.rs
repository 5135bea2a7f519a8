//! `data fetch` against a server on 127.0.0.1 that serves a small fixture,
//! one file corrupted and one connection dropped half-way.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use circssnn::data::fetch::{check_file, fetch, FetchOptions, FileState, Manifest, ManifestEntry};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy)]
enum Mode {
    Good,
    /// Same length, different bytes.
    Corrupt,
    /// Announces the full length, sends half, closes.
    Drop,
}

/// Serve `files` on a random loopback port until the test process ends;
/// honours `Range: bytes=N-` with a 206. Returns the base URL and the log of
/// requests (path, range start).
/// Requests a test server saw: path and range start.
type Requests = Arc<Mutex<Vec<(String, u64)>>>;

fn serve(files: HashMap<String, (Vec<u8>, Mode)>) -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let files = Arc::new(files);
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (files, seen) = (files.clone(), seen.clone());
            std::thread::spawn(move || handle(stream, &files, &seen));
        }
    });
    (format!("http://{addr}/Datasets"), log)
}

fn handle(
    mut stream: TcpStream,
    files: &HashMap<String, (Vec<u8>, Mode)>,
    seen: &Mutex<Vec<(String, u64)>>,
) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).ok();
    let mut from = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(r) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            from = r.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    let path = request
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_start_matches("/Datasets/")
        .to_string();
    seen.lock().unwrap().push((path.clone(), from));
    match files.get(&path) {
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Some((body, mode)) => {
            let from = (from as usize).min(body.len());
            let status = if from > 0 {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            let body = &body[from..];
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = match mode {
                Mode::Good => stream.write_all(body),
                Mode::Corrupt => {
                    let mut bad = body.to_vec();
                    bad[body.len() / 2] ^= 0xff;
                    stream.write_all(&bad)
                }
                Mode::Drop => stream.write_all(&body[..body.len() / 2]),
            };
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn entry(path: &str, body: &[u8]) -> ManifestEntry {
    ManifestEntry {
        path: path.to_string(),
        size: body.len() as u64,
        sha256: format!("{:x}", Sha256::digest(body)),
    }
}

fn fixture() -> Vec<(&'static str, Vec<u8>)> {
    let w = "ACGU".repeat(25) + "A";
    vec![
        (
            "circRNA-RBP/X/positive",
            format!(">p1\n{w}\n>p2\n{w}\n").into_bytes(),
        ),
        ("circRNA-RBP/X/negative", format!(">n1\n{w}\n").into_bytes()),
        (
            "linRNA-RBP/clip/1_T/5000/test_sample_0/sequences.fa.gz",
            (0..=255u8).cycle().take(5000).collect(),
        ),
    ]
}

fn opts(base_url: String) -> FetchOptions {
    FetchOptions {
        base_url,
        progress: false,
        timeout: Duration::from_secs(10),
    }
}

/// No temporary download files anywhere below `root`.
fn no_leftovers(root: &Path) -> bool {
    fn walk(p: &Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".circssnn-download-")
            {
                found.push(path.display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(root, &mut found);
    found.is_empty()
}

#[test]
fn downloads_verifies_and_resumes() {
    let fx = fixture();
    let manifest = Manifest {
        entries: fx.iter().map(|(p, b)| entry(p, b)).collect(),
    };
    let (url, _) = serve(
        fx.iter()
            .map(|(p, b)| (p.to_string(), (b.clone(), Mode::Good)))
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();

    // A stale, wrong copy of one file is replaced.
    let stale = dir.path().join(fx[1].0);
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"stale").unwrap();

    let r = fetch(dir.path(), &manifest, &opts(url.clone())).unwrap();
    assert_eq!((r.downloaded, r.already_present), (3, 0));
    for (p, b) in &fx {
        assert_eq!(&std::fs::read(dir.path().join(p)).unwrap(), b, "{p}");
    }
    let again = fetch(dir.path(), &manifest, &opts(url)).unwrap();
    assert_eq!((again.downloaded, again.already_present), (0, 3));
    assert!(no_leftovers(dir.path()));
}

fn fails_cleanly(mode: Mode, expect: &str) {
    let fx = fixture();
    let manifest = Manifest {
        entries: fx.iter().map(|(p, b)| entry(p, b)).collect(),
    };
    let served = fx
        .iter()
        .enumerate()
        .map(|(i, (p, b))| {
            (
                p.to_string(),
                (b.clone(), if i == 2 { mode } else { Mode::Good }),
            )
        })
        .collect();
    let (url, _) = serve(served);
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &manifest, &opts(url))
        .unwrap_err()
        .to_string();
    assert!(err.contains(fx[2].0), "error names the file: {err}");
    assert!(err.contains(expect), "error says why ({expect}): {err}");
    assert!(
        !dir.path().join(fx[2].0).exists(),
        "no half-written file at the target"
    );
    // A wrong file is not kept; a broken connection keeps its bytes hidden
    // beside the target, for the next fetch to continue.
    assert_eq!(
        no_leftovers(dir.path()),
        !matches!(mode, Mode::Drop),
        "partial download kept only after a broken connection"
    );
    // Files finished before the failure are complete and kept.
    assert_eq!(std::fs::read(dir.path().join(fx[0].0)).unwrap(), fx[0].1);
}

#[test]
fn a_broken_download_continues_where_it_stopped() {
    let fx = fixture();
    let manifest = Manifest {
        entries: fx.iter().map(|(p, b)| entry(p, b)).collect(),
    };
    let dir = tempfile::tempdir().unwrap();
    let served = |mode_of_last: Mode| {
        serve(
            fx.iter()
                .enumerate()
                .map(|(i, (p, b))| {
                    (
                        p.to_string(),
                        (b.clone(), if i == 2 { mode_of_last } else { Mode::Good }),
                    )
                })
                .collect(),
        )
    };
    let (url, _) = served(Mode::Drop);
    assert!(fetch(dir.path(), &manifest, &opts(url)).is_err());
    let (url, log) = served(Mode::Good);
    let r = fetch(dir.path(), &manifest, &opts(url)).unwrap();
    assert_eq!((r.downloaded, r.already_present), (1, 2));
    assert_eq!(std::fs::read(dir.path().join(fx[2].0)).unwrap(), fx[2].1);
    // The second request asked only for the missing half.
    assert_eq!(
        log.lock().unwrap().as_slice(),
        &[(fx[2].0.to_string(), 2500)]
    );
    assert!(no_leftovers(dir.path()));
}

#[test]
fn corrupted_file_is_rejected() {
    fails_cleanly(Mode::Corrupt, "checksum mismatch");
}

#[test]
fn dropped_connection_is_rejected() {
    fails_cleanly(Mode::Drop, "of 5000 bytes");
}

#[test]
fn missing_file_on_server() {
    let fx = fixture();
    let manifest = Manifest {
        entries: vec![entry("circRNA-RBP/Y/positive", &fx[0].1)],
    };
    let (url, _) = serve(HashMap::new());
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(dir.path(), &manifest, &opts(url))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("404") && err.contains("circRNA-RBP/Y/positive"),
        "{err}"
    );
}

#[test]
fn shipped_manifest_covers_the_benchmark() {
    let m = Manifest::shipped();
    let circ: std::collections::HashSet<_> = m
        .entries
        .iter()
        .filter_map(|e| e.path.strip_prefix("circRNA-RBP/"))
        .map(|p| p.split('/').next().unwrap())
        .collect();
    assert_eq!(circ.len(), 37);
    assert_eq!(m.entries.len(), 37 * 2 + 31 * 2);
    let lin: std::collections::HashSet<_> = m
        .entries
        .iter()
        .filter_map(|e| e.path.strip_prefix("linRNA-RBP/clip/"))
        .map(|p| p.split('/').next().unwrap())
        .collect();
    assert_eq!(lin.len(), 31);
    assert!(Manifest::parse("abc\t1\tx").is_err());
    assert!(Manifest::parse(&format!("{}\t1\t../etc/passwd", "0".repeat(64))).is_err());
}

/// How `data/benchmark` ships the circRNA files: `<path>.gz`, checked by its
/// decompressed bytes; `fetch` counts it as present and downloads nothing.
#[test]
fn gzipped_copy_verifies_by_its_content() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write as _;

    let fx = fixture();
    let (path, body) = (fx[0].0, &fx[0].1);
    let e = entry(path, body);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    assert_eq!(check_file(dir.path(), &e).unwrap(), FileState::Missing);

    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(body).unwrap();
    let gz = gz.finish().unwrap();
    let gz_file = dir.path().join(format!("{path}.gz"));
    std::fs::write(&gz_file, &gz).unwrap();
    assert_eq!(check_file(dir.path(), &e).unwrap(), FileState::Verified);
    // Nothing is fetched (the URL is never contacted).
    let manifest = Manifest {
        entries: vec![e.clone()],
    };
    let r = fetch(dir.path(), &manifest, &opts("http://127.0.0.1:9".into())).unwrap();
    assert_eq!((r.downloaded, r.already_present), (0, 1));

    // A truncated stream is reported as corrupt, not as an I/O failure.
    std::fs::write(&gz_file, &gz[..gz.len() / 2]).unwrap();
    assert!(
        matches!(
            check_file(dir.path(), &e).unwrap(),
            FileState::Corrupt { .. }
        ),
        "truncated .gz"
    );
    // Other content, intact stream: a mismatch with the content's size.
    let mut other = GzEncoder::new(Vec::new(), Compression::best());
    other.write_all(b">x\nACGU\n").unwrap();
    std::fs::write(&gz_file, other.finish().unwrap()).unwrap();
    assert!(matches!(
        check_file(dir.path(), &e).unwrap(),
        FileState::Mismatch { size: 8, .. }
    ));
}
