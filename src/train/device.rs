//! From runtime settings to the typed network: the compute device, the
//! depth and the BERT width are const generics or types, so a run whose
//! values arrive at runtime (flags, a checkpoint's metadata, a notebook)
//! picks its type here, in the one place that lists what is built in.

use serde::{Deserialize, Serialize};

/// Where the network runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// dfdx's CPU backend (gemm + rayon).
    #[default]
    Cpu,
    /// dfdx's CUDA backend (cuBLAS + NVRTC), GPU 0; needs a build with the
    /// `cuda` feature.
    Cuda,
}

impl std::str::FromStr for DeviceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            _ => Err(format!("unknown device {s:?}: use cpu or cuda")),
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

/// Why a runtime setting has no type built into the crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// `--device cuda` in a build without the `cuda` feature.
    #[error(
        "this circssnn was built without CUDA; build it with `cargo build --release --features cuda` \
         (see README, GPU section)"
    )]
    NoCuda,
    /// The CUDA device could not be opened.
    #[error("cannot open CUDA device 0: {0}")]
    Cuda(String),
    /// A depth other than 1, 2, 4.
    #[error("depth {0} is not built into circssnn; use 1, 2 or 4")]
    Depth(usize),
    /// A BERT width other than the two profiles'.
    #[error(
        "a {0}-wide BERT is not built into circssnn: use the small profile (128 wide, 4 layers, 4 heads) \
         or DNABERT-3's shape (768 wide, 12 layers, 12 heads)"
    )]
    BertWidth(usize),
    /// A multi-task network with a head count other than the suites'.
    #[error(
        "a multi-task network with {0} heads is not built into circssnn: it is built for a whole \
         suite (37 circular or 31 linear sets)"
    )]
    Heads(usize),
}

/// Run `$body` with `$D` bound to the dfdx device type chosen by `$kind`
/// (a [`DeviceKind`]) and `$dev` to a device seeded with `$seed`. The
/// enclosing function's error type must convert from [`Unsupported`].
#[doc(hidden)]
#[macro_export]
macro_rules! with_device {
    ($kind:expr, $seed:expr, $dev:ident : $D:ident => $body:expr) => {
        match $kind {
            $crate::train::DeviceKind::Cpu => {
                #[allow(dead_code)]
                type $D = $crate::dfdx::prelude::Cpu;
                let $dev = $crate::dfdx::prelude::Cpu::seed_from_u64($seed);
                $body
            }
            $crate::train::DeviceKind::Cuda => $crate::__with_cuda!($seed, $dev: $D => $body),
        }
    };
}

#[cfg(feature = "cuda")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cuda {
    ($seed:expr, $dev:ident : $D:ident => $body:expr) => {{
        #[allow(dead_code)]
        type $D = $crate::dfdx::prelude::Cuda;
        let $dev = $crate::dfdx::prelude::Cuda::try_seed_from_u64($seed)
            .map_err(|e| $crate::train::device::Unsupported::Cuda(format!("{e:?}")))?;
        $body
    }};
}

#[cfg(not(feature = "cuda"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cuda {
    ($seed:expr, $dev:ident : $D:ident => $body:expr) => {
        return Err($crate::train::device::Unsupported::NoCuda.into())
    };
}

/// Run `$body` with `const $d: usize` bound to the runtime depth `$depth`.
#[doc(hidden)]
#[macro_export]
macro_rules! with_depth {
    ($depth:expr, $d:ident => $body:expr) => {
        match $depth {
            1 => {
                const $d: usize = 1;
                $body
            }
            2 => {
                const $d: usize = 2;
                $body
            }
            4 => {
                const $d: usize = 4;
                $body
            }
            other => return Err($crate::train::device::Unsupported::Depth(other).into()),
        }
    };
}

/// Run `$body` with consts `$b` (width), `$l` (layers), `$h` (heads), `$f`
/// (feed-forward width) bound to the BERT shape of width `$width`: the
/// [`Small`](crate::features::bert::Small) or the
/// [`Paper`](crate::features::bert::Paper) profile, the only two shapes
/// built into the crate (each is its own network type).
#[doc(hidden)]
#[macro_export]
macro_rules! with_bert_shape {
    ($width:expr, ($b:ident, $l:ident, $h:ident, $f:ident) => $body:expr) => {
        match $width {
            $crate::features::bert::Small::WIDTH => {
                use $crate::features::bert::Small as P;
                const $b: usize = P::WIDTH;
                const $l: usize = P::LAYERS;
                const $h: usize = P::HEADS;
                const $f: usize = P::FF;
                $body
            }
            $crate::features::bert::Paper::WIDTH => {
                use $crate::features::bert::Paper as P;
                const $b: usize = P::WIDTH;
                const $l: usize = P::LAYERS;
                const $h: usize = P::HEADS;
                const $f: usize = P::FF;
                $body
            }
            other => return Err($crate::train::device::Unsupported::BertWidth(other).into()),
        }
    };
}
