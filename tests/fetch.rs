//! `data fetch` against a server on 127.0.0.1 that serves a small fixture,
//! one file corrupted and one connection dropped half-way.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use circssnn::data::fetch::{fetch, FetchOptions, Manifest, ManifestEntry};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy)]
enum Mode {
    Good,
    /// Same length, different bytes.
    Corrupt,
    /// Announces the full length, sends half, closes.
    Drop,
}

/// Serve `files` on a random loopback port until the test process ends.
fn serve(files: HashMap<String, (Vec<u8>, Mode)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let files = files.clone();
            std::thread::spawn(move || handle(stream, &files));
        }
    });
    format!("http://{addr}/Datasets")
}

fn handle(mut stream: TcpStream, files: &HashMap<String, (Vec<u8>, Mode)>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).ok();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_start_matches("/Datasets/");
    match files.get(path) {
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Some((body, mode)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = match mode {
                Mode::Good => stream.write_all(body),
                Mode::Corrupt => {
                    let mut bad = body.clone();
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
    let url = serve(
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
    let url = serve(served);
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
    assert!(no_leftovers(dir.path()), "no temporary file left behind");
    // Files finished before the failure are complete and kept.
    assert_eq!(std::fs::read(dir.path().join(fx[0].0)).unwrap(), fx[0].1);
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
    let url = serve(HashMap::new());
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
    assert_eq!(m.entries.len(), 37 * 2 + 3 * 2);
    assert!(Manifest::parse("abc\t1\tx").is_err());
    assert!(Manifest::parse(&format!("{}\t1\t../etc/passwd", "0".repeat(64))).is_err());
}
