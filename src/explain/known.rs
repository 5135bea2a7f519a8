//! Binding motifs known from experiments other than this benchmark, to set
//! beside what the models recover. Only RBPs whose motif is well
//! established are listed; the core is the part a recovered k-mer must hold
//! to count as a match.

/// A motif from the literature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownMotif {
    /// Benchmark set name (upper case, as in the benchmark's folders).
    pub rbp: &'static str,
    /// The element as usually written.
    pub motif: &'static str,
    /// What a recovered k-mer must contain to match it.
    pub core: &'static str,
    /// Where it was established.
    pub source: &'static str,
}

impl KnownMotif {
    /// Does `kmer` hold this motif's core?
    pub fn matches(&self, kmer: &str) -> bool {
        kmer.contains(self.core)
    }
}

/// The known motifs, by set.
pub const KNOWN_MOTIFS: &[KnownMotif] = &[
    KnownMotif {
        rbp: "PUM2",
        motif: "UGUAnAUA (Pumilio response element)",
        core: "UGUA",
        source: "PAR-CLIP, Hafner et al. 2010",
    },
    KnownMotif {
        rbp: "QKI",
        motif: "ACUAAY (QKI response element)",
        core: "CUAA",
        source: "PAR-CLIP, Hafner et al. 2010",
    },
    KnownMotif {
        rbp: "HNRNPC",
        motif: "U tracts (UUUUU)",
        core: "UUUU",
        source: "iCLIP, König et al. 2010",
    },
    KnownMotif {
        rbp: "HUR",
        motif: "AU-rich elements (AUUUA, U-rich)",
        core: "UUU",
        source: "PAR-CLIP, Lebedeva et al. 2011",
    },
    KnownMotif {
        rbp: "TIA1",
        motif: "U-rich stretches",
        core: "UUUU",
        source: "iCLIP, Wang et al. 2010",
    },
    KnownMotif {
        rbp: "TIAL1",
        motif: "U-rich stretches",
        core: "UUUU",
        source: "iCLIP, Wang et al. 2010",
    },
    KnownMotif {
        rbp: "U2AF65",
        motif: "polypyrimidine tract (U-rich)",
        core: "UUUU",
        source: "iCLIP, Zarnack et al. 2013",
    },
    KnownMotif {
        rbp: "IGF2BP1",
        motif: "CAUH",
        core: "CAU",
        source: "PAR-CLIP, Hafner et al. 2010",
    },
    KnownMotif {
        rbp: "IGF2BP2",
        motif: "CAUH",
        core: "CAU",
        source: "PAR-CLIP, Hafner et al. 2010",
    },
    KnownMotif {
        rbp: "IGF2BP3",
        motif: "CAUH",
        core: "CAU",
        source: "PAR-CLIP, Hafner et al. 2010",
    },
    KnownMotif {
        rbp: "LIN28B",
        motif: "GGAG",
        core: "GGAG",
        source: "CLIP-seq, Wilbert et al. 2012; Hafner et al. 2013",
    },
    KnownMotif {
        rbp: "LIN28A",
        motif: "GGAG",
        core: "GGAG",
        source: "CLIP-seq, Wilbert et al. 2012; Hafner et al. 2013",
    },
    KnownMotif {
        rbp: "FOX2",
        motif: "UGCAUG",
        core: "GCAU",
        source: "CLIP-seq, Yeo et al. 2009",
    },
    KnownMotif {
        rbp: "PTB",
        motif: "pyrimidine tracts (CUCUCU, UCUU)",
        core: "CUCU",
        source: "CLIP-seq, Xue et al. 2009",
    },
    KnownMotif {
        rbp: "TDP43",
        motif: "UG repeats (GUGUGU)",
        core: "GUGU",
        source: "CLIP-seq, Polymenidou et al. 2011; Tollervey et al. 2011",
    },
];

/// The known motif of a set, if one is listed (case-insensitive).
///
/// ```
/// let pum2 = circssnn::explain::known_motif("pum2").unwrap();
/// assert!(pum2.matches("UGUAA") && !pum2.matches("UAUAU"));
/// ```
pub fn known_motif(rbp: &str) -> Option<&'static KnownMotif> {
    KNOWN_MOTIFS
        .iter()
        .find(|m| m.rbp.eq_ignore_ascii_case(rbp))
}
