//! Reading and writing descriptor chains a guest gave us, without trusting them and without
//! allocating: a chain is flattened into a small fixed array of checked segments.

use virtio_queue::DescriptorChain;
use vm_memory::{Bytes, GuestAddress, GuestMemory, Permissions};

/// Longest chain accepted. Linux's hwsim driver uses one descriptor per buffer.
pub const MAX_SEGMENTS: usize = 16;

/// Why a chain was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A TX descriptor was write-only, or an RX descriptor read-only.
    #[error("descriptor has the wrong direction")]
    WrongDirection,
    /// More than [`MAX_SEGMENTS`] descriptors.
    #[error("descriptor chain too long")]
    TooLong,
    /// The chain was empty.
    #[error("empty descriptor chain")]
    Empty,
    /// A descriptor points outside guest memory.
    #[error("descriptor outside guest memory")]
    BadAddress,
}

/// A flattened chain: (guest address, length) pairs.
pub struct Segments {
    n: usize,
    seg: [(u64, u32); MAX_SEGMENTS],
    total: u64,
}

impl Segments {
    /// Flattens `chain`, requiring every descriptor to be write-only (`writable`) or read-only
    /// and to lie wholly inside guest memory.
    pub fn collect<G, M>(
        mem: &G,
        chain: DescriptorChain<M>,
        writable: bool,
    ) -> Result<Self, ChainError>
    where
        G: GuestMemory,
        M: std::ops::Deref,
        M::Target: GuestMemory,
    {
        let mut s = Segments {
            n: 0,
            seg: [(0, 0); MAX_SEGMENTS],
            total: 0,
        };
        for desc in chain {
            if desc.is_write_only() != writable {
                return Err(ChainError::WrongDirection);
            }
            if s.n == MAX_SEGMENTS {
                return Err(ChainError::TooLong);
            }
            let access = if writable {
                Permissions::Write
            } else {
                Permissions::Read
            };
            if !mem.check_range(desc.addr(), desc.len() as usize, access) {
                return Err(ChainError::BadAddress);
            }
            s.seg[s.n] = (desc.addr().0, desc.len());
            s.total += u64::from(desc.len());
            s.n += 1;
        }
        if s.n == 0 {
            return Err(ChainError::Empty);
        }
        Ok(s)
    }

    /// Total bytes the chain covers.
    pub fn total_len(&self) -> u64 {
        self.total
    }

    /// Reads `buf.len()` bytes starting at byte `offset` of the chain.
    pub fn read<M: GuestMemory>(
        &self,
        mem: &M,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), ChainError> {
        self.walk(offset, buf.len(), |addr, range| {
            mem.read_slice(&mut buf[range], addr)
                .map_err(|_| ChainError::BadAddress)
        })
    }

    /// Writes `buf` starting at byte `offset` of the chain.
    pub fn write<M: GuestMemory>(
        &self,
        mem: &M,
        offset: u64,
        buf: &[u8],
    ) -> Result<(), ChainError> {
        self.walk(offset, buf.len(), |addr, range| {
            mem.write_slice(&buf[range], addr)
                .map_err(|_| ChainError::BadAddress)
        })
    }

    fn walk(
        &self,
        mut offset: u64,
        len: usize,
        mut f: impl FnMut(GuestAddress, std::ops::Range<usize>) -> Result<(), ChainError>,
    ) -> Result<(), ChainError> {
        if offset.saturating_add(len as u64) > self.total {
            return Err(ChainError::BadAddress);
        }
        let mut done = 0usize;
        for &(addr, seg_len) in &self.seg[..self.n] {
            if done == len {
                break;
            }
            let seg_len = u64::from(seg_len);
            if offset >= seg_len {
                offset -= seg_len;
                continue;
            }
            let n = ((seg_len - offset) as usize).min(len - done);
            let start = addr.checked_add(offset).ok_or(ChainError::BadAddress)?;
            f(GuestAddress(start), done..done + n)?;
            done += n;
            offset = 0;
        }
        Ok(())
    }
}
