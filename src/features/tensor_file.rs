//! Named `f32` tensors in safetensors files, for the learned descriptors and
//! the descriptor cache: written atomically, read with a message naming the
//! file and tensor when something is missing or the wrong shape. HuggingFace
//! checkpoints often store F16 or BF16; those are widened to `f32` on read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::EmbedError;
use crate::output::write_atomic;

/// A safetensors file read into memory.
pub struct TensorFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl TensorFile {
    /// Read `path` whole.
    pub fn open(path: &Path) -> Result<Self, EmbedError> {
        let bytes = std::fs::read(path).map_err(|source| EmbedError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file = TensorFile {
            path: path.to_path_buf(),
            bytes,
        };
        file.parse()?; // fail here, not at the first tensor, on a truncated file
        Ok(file)
    }

    fn parse(&self) -> Result<SafeTensors<'_>, EmbedError> {
        SafeTensors::deserialize(&self.bytes)
            .map_err(|e| self.error(format!("not a valid safetensors file ({e:?})")))
    }

    fn error(&self, message: String) -> EmbedError {
        EmbedError::Format {
            path: self.path.clone(),
            message,
        }
    }

    /// The file's free-form metadata.
    pub fn metadata(&self) -> Result<HashMap<String, String>, EmbedError> {
        let (_, meta) = SafeTensors::read_metadata(&self.bytes)
            .map_err(|e| self.error(format!("unreadable header ({e:?})")))?;
        Ok(meta.metadata().clone().unwrap_or_default())
    }

    /// Names of the tensors in the file.
    pub fn names(&self) -> Result<Vec<String>, EmbedError> {
        Ok(self.parse()?.names().into_iter().cloned().collect())
    }

    /// Tensor `name` as `f32`, with its shape; `expected` (if given) must match.
    pub fn f32(
        &self,
        name: &str,
        expected: Option<&[usize]>,
    ) -> Result<(Vec<usize>, Vec<f32>), EmbedError> {
        let st = self.parse()?;
        let t = st
            .tensor(name)
            .map_err(|_| self.error(format!("tensor {name:?} is missing")))?;
        let shape = t.shape().to_vec();
        if let Some(want) = expected {
            if shape != want {
                return Err(self.error(format!(
                    "tensor {name:?} has shape {shape:?}, expected {want:?}"
                )));
            }
        }
        let data = t.data();
        let values: Vec<f32> = match t.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(self.error(format!(
                    "tensor {name:?} has dtype {other:?}; expected F32, F16 or BF16"
                )))
            }
        };
        Ok((shape, values))
    }

    /// Tensor `name` as raw `u8` (windows in the descriptor cache).
    pub fn u8(&self, name: &str) -> Result<(Vec<usize>, Vec<u8>), EmbedError> {
        let st = self.parse()?;
        let t = st
            .tensor(name)
            .map_err(|_| self.error(format!("tensor {name:?} is missing")))?;
        if t.dtype() != Dtype::U8 {
            return Err(self.error(format!("tensor {name:?} is {:?}, expected U8", t.dtype())));
        }
        Ok((t.shape().to_vec(), t.data().to_vec()))
    }
}

/// One tensor to write: name, shape and little-endian bytes.
pub struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Entry {
    fn new(name: String, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) -> Self {
        let width = if dtype == Dtype::F32 { 4 } else { 1 };
        assert_eq!(
            shape.iter().product::<usize>() * width,
            bytes.len(),
            "shape does not match data"
        );
        Entry {
            name,
            dtype,
            shape,
            bytes,
        }
    }

    /// An `f32` tensor.
    pub fn f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self::new(name.into(), Dtype::F32, shape, bytes)
    }

    /// A `u8` tensor.
    pub fn u8(name: impl Into<String>, shape: Vec<usize>, values: Vec<u8>) -> Self {
        Self::new(name.into(), Dtype::U8, shape, values)
    }
}

/// Write `entries` and `metadata` to `path` atomically (a reader never sees
/// half a file, and a crash leaves the previous file in place).
pub fn write(
    path: &Path,
    entries: &[Entry],
    metadata: HashMap<String, String>,
) -> Result<(), EmbedError> {
    let views: Vec<(String, TensorView<'_>)> = entries
        .iter()
        .map(|e| {
            let view = TensorView::new(e.dtype, e.shape.clone(), &e.bytes)
                .expect("entry sizes are checked on construction");
            (e.name.clone(), view)
        })
        .collect();
    let bytes =
        safetensors::tensor::serialize(views, &Some(metadata)).map_err(|e| EmbedError::Format {
            path: path.to_path_buf(),
            message: format!("cannot serialise ({e:?})"),
        })?;
    write_atomic(path, |w| w.write_all(&bytes)).map_err(|source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    })
}
