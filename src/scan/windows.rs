//! The 101-nt windows of a whole transcript.
//!
//! A circRNA is a circle: its sequence is given 5'→3' from the back-splice
//! junction, and a window that starts near the 3' end runs across the
//! junction into the 5' end. Such windows are scored like any other, so a
//! site spanning the junction is found. A linear RNA has no such windows.

use crate::data::sequence::LengthPolicy;
use crate::data::WINDOW;

/// One window of a transcript of length `len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// 0-based start in the transcript.
    pub start: usize,
    /// Exclusive end in the transcript; below `start` when the window wraps
    /// across the back-splice junction (`start + 101 - len`).
    pub end: usize,
    /// Whether it runs across the back-splice junction.
    pub wraps: bool,
    /// Its 101 bases.
    pub seq: Vec<u8>,
}

impl Window {
    /// The transcript positions it covers, in order.
    pub fn positions(&self, len: usize) -> impl Iterator<Item = usize> + '_ {
        let n = if len < WINDOW { len } else { WINDOW };
        (0..n).map(move |i| (self.start + i) % len.max(1))
    }
}

/// Windows of `seq` every `stride` nt.
///
/// * circular (`circular`): a window starts at every `stride`-th position
///   of the circle, and those near the 3' end wrap into the 5' end;
/// * linear: windows start at every `stride`-th position while they fit,
///   plus one ending at the 3' end if the last start leaves it uncovered;
/// * a transcript shorter than one window (either kind) is scored once,
///   padded with `N` on both sides as `--pad` pads a short window (a circle
///   shorter than 101 nt is not repeated to fill the window: a protein
///   footprint does not see the same bases twice);
/// * an empty sequence has no windows.
///
/// ```
/// use circssnn::scan::windows::windows;
/// let seq = vec![b'A'; 250];
/// let w = windows(&seq, 50, true);
/// assert_eq!(w.len(), 5);                       // starts 0, 50, 100, 150, 200
/// assert!(!w[2].wraps && w[3].wraps);           // 150 + 101 > 250
/// assert_eq!((w[4].start, w[4].end), (200, 51)); // 200..250 then 0..51
/// let l = windows(&seq, 50, false);
/// assert_eq!(l.iter().map(|w| w.start).collect::<Vec<_>>(), vec![0, 50, 100, 149]);
/// ```
pub fn windows(seq: &[u8], stride: usize, circular: bool) -> Vec<Window> {
    let len = seq.len();
    let stride = stride.max(1);
    if len == 0 {
        return Vec::new();
    }
    if len < WINDOW {
        let padded = LengthPolicy {
            pad: true,
            trim: false,
        }
        .fit(seq.to_vec(), WINDOW)
        .expect("padding fits a short window");
        return vec![Window {
            start: 0,
            end: len,
            wraps: false,
            seq: padded,
        }];
    }
    if circular {
        (0..len)
            .step_by(stride)
            .map(|start| {
                let seq: Vec<u8> = (0..WINDOW).map(|i| seq[(start + i) % len]).collect();
                let wraps = start + WINDOW > len;
                let end = if wraps {
                    start + WINDOW - len
                } else {
                    start + WINDOW
                };
                Window {
                    start,
                    end,
                    wraps,
                    seq,
                }
            })
            .collect()
    } else {
        let mut starts: Vec<usize> = (0..=len - WINDOW).step_by(stride).collect();
        if starts.last() != Some(&(len - WINDOW)) {
            starts.push(len - WINDOW);
        }
        starts
            .into_iter()
            .map(|start| Window {
                start,
                end: start + WINDOW,
                wraps: false,
                seq: seq[start..start + WINDOW].to_vec(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_windows_cover_the_circle_and_wrap_the_junction() {
        let seq: Vec<u8> = (0..300).map(|i| b"ACGU"[i % 4]).collect();
        let w = windows(&seq, 1, true);
        assert_eq!(w.len(), 300, "one window per start");
        // The window starting 50 nt before the junction holds the last 50
        // bases then the first 51.
        let j = &w[250];
        assert!(j.wraps);
        assert_eq!(&j.seq[..50], &seq[250..]);
        assert_eq!(&j.seq[50..], &seq[..51]);
        assert_eq!(j.positions(300).collect::<Vec<_>>()[49..52], [299, 0, 1]);
        // Every position is covered by exactly 101 windows.
        let mut cover = vec![0; 300];
        for w in &w {
            for p in w.positions(300) {
                cover[p] += 1;
            }
        }
        assert!(cover.iter().all(|&c| c == 101));
    }

    #[test]
    fn short_and_empty_sequences() {
        assert!(windows(b"", 10, true).is_empty());
        let w = windows(b"ACGU", 10, true);
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].start, w[0].end, w[0].wraps), (0, 4, false));
        assert_eq!(w[0].seq.len(), WINDOW);
        assert_eq!(w[0].positions(4).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!(w[0].seq.iter().filter(|&&b| b != b'N').count(), 4);
        // Exactly one window's length: one window, linear or circular.
        let seq = vec![b'C'; WINDOW];
        assert_eq!(windows(&seq, 10, false).len(), 1);
        assert_eq!(windows(&seq, 200, true).len(), 1);
    }
}
