//! RNA windows as the model sees them: upper case, `T` read as `U`, and every
//! IUPAC ambiguity code collapsed to `N`.
//!
//! Why collapse: no descriptor of the paper has a column for an ambiguous
//! base, and 146 linear-RNA negatives are nothing but `N`. A k-mer that
//! contains `N` is simply not counted (its KNFP row stays zero), which is the
//! only encoding that neither invents a nucleotide nor crashes.

/// Window length every descriptor and the network expect (nt).
pub const WINDOW: usize = 101;

/// Alphabet after normalisation, in the column order of the paper's code
/// (A=0, C=1, G=2, U=3).
pub const ALPHABET: [u8; 4] = *b"ACGU";

/// Code used for an ambiguous or unknown-but-legal base.
pub const AMBIGUOUS: u8 = b'N';

/// Normalise one input character. Returns `None` for characters that are not
/// nucleotides or IUPAC codes (digits, `X`, `*`, `-`, ...).
///
/// ```
/// use circssnn::data::sequence::normalise_base;
/// assert_eq!(normalise_base(b't'), Some(b'U'));
/// assert_eq!(normalise_base(b'R'), Some(b'N'));
/// assert_eq!(normalise_base(b'X'), None);
/// ```
pub fn normalise_base(b: u8) -> Option<u8> {
    match b.to_ascii_uppercase() {
        b'A' => Some(b'A'),
        b'C' => Some(b'C'),
        b'G' => Some(b'G'),
        b'T' | b'U' => Some(b'U'),
        b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' | b'N' => {
            Some(AMBIGUOUS)
        }
        _ => None,
    }
}

/// Index of a normalised base in [`ALPHABET`], `None` for `N`.
#[inline]
pub fn base_index(b: u8) -> Option<usize> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'U' => Some(3),
        _ => None,
    }
}

/// What to do with a record whose length is not [`WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LengthPolicy {
    /// Pad shorter records with `N` on both sides (centred) up to the window.
    pub pad: bool,
    /// Keep the central window of longer records. Binding-site windows are
    /// centred on the site, so the centre is the part worth keeping.
    pub trim: bool,
}

impl LengthPolicy {
    /// Exactly [`WINDOW`] nt or an error: the default, and what the benchmark needs.
    pub const STRICT: Self = Self {
        pad: false,
        trim: false,
    };

    /// Fit `seq` to `window` if the policy allows; `None` if it does not.
    ///
    /// ```
    /// use circssnn::data::sequence::LengthPolicy;
    /// let p = LengthPolicy { pad: true, trim: true };
    /// assert_eq!(p.fit(b"ACG".to_vec(), 5).unwrap(), b"NACGN");
    /// assert_eq!(p.fit(b"AACGUU".to_vec(), 4).unwrap(), b"ACGU");
    /// assert!(LengthPolicy::STRICT.fit(b"ACG".to_vec(), 5).is_none());
    /// ```
    pub fn fit(&self, seq: Vec<u8>, window: usize) -> Option<Vec<u8>> {
        use std::cmp::Ordering::*;
        match seq.len().cmp(&window) {
            Equal => Some(seq),
            Less if self.pad => {
                let missing = window - seq.len();
                let left = missing / 2;
                let mut out = vec![AMBIGUOUS; window];
                out[left..left + seq.len()].copy_from_slice(&seq);
                Some(out)
            }
            Greater if self.trim => {
                let start = (seq.len() - window) / 2;
                Some(seq[start..start + window].to_vec())
            }
            _ => None,
        }
    }
}

/// GC fraction over the unambiguous bases of a normalised sequence
/// (`None` when there are none, e.g. an all-`N` record).
pub fn gc_fraction(seq: &[u8]) -> Option<f64> {
    let (mut gc, mut called) = (0usize, 0usize);
    for &b in seq {
        match b {
            b'G' | b'C' => {
                gc += 1;
                called += 1
            }
            b'A' | b'U' => called += 1,
            _ => {}
        }
    }
    (called > 0).then(|| gc as f64 / called as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_is_centred_and_trim_keeps_centre() {
        let p = LengthPolicy {
            pad: true,
            trim: true,
        };
        assert_eq!(p.fit(b"AC".to_vec(), 5).unwrap(), b"NACNN");
        assert_eq!(p.fit(b"ACGUACG".to_vec(), 3).unwrap(), b"GUA");
        let pad_only = LengthPolicy {
            pad: true,
            trim: false,
        };
        assert!(pad_only.fit(b"ACGUACG".to_vec(), 3).is_none());
    }

    #[test]
    fn gc_ignores_ambiguous() {
        assert_eq!(gc_fraction(b"GCAN"), Some(2.0 / 3.0));
        assert_eq!(gc_fraction(b"NNN"), None);
    }
}
