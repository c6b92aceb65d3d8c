//! Pooled message buffers: the data path takes a buffer here instead of allocating one per frame.
//!
//! The free list is a lock-free bounded queue shared by every VM thread. Buffers are allocated
//! lazily up to `max_buffers` and then recycled forever, so steady state allocates nothing and the
//! daemon's memory stays bounded no matter how hard guests push.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

/// Largest device→guest message we build: header, RECEIVER, FRAME (≤ 2304 bytes), RX_RATE, FREQ,
/// SIGNAL, rounded up. The guest's RX buffers (≈3776 bytes) are larger than this.
pub const MSG_BUF_LEN: usize = 2432;

/// One pooled buffer holding a complete netlink message.
pub struct MsgBuf {
    len: usize,
    data: [u8; MSG_BUF_LEN],
}

impl MsgBuf {
    /// The message bytes.
    pub fn message(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// The whole buffer, for an emitter to write into.
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Sets how many bytes of the buffer hold the message.
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(MSG_BUF_LEN);
    }
}

/// A bounded, lazily filled pool of [`MsgBuf`]s.
pub struct BufferPool {
    free: ArrayQueue<Box<MsgBuf>>,
    allocated: AtomicUsize,
    max_buffers: usize,
}

impl BufferPool {
    /// A pool that will hold at most `max_buffers` buffers.
    pub fn new(max_buffers: usize) -> Arc<Self> {
        let max_buffers = max_buffers.max(1);
        Arc::new(BufferPool {
            free: ArrayQueue::new(max_buffers),
            allocated: AtomicUsize::new(0),
            max_buffers,
        })
    }

    /// Takes a buffer, allocating only while the pool has not reached its bound.
    /// `None` means every buffer is in flight: the caller drops the frame and counts it.
    pub fn take(self: &Arc<Self>) -> Option<PoolBuf> {
        let buf = match self.free.pop() {
            Some(b) => b,
            None => {
                let n = self.allocated.fetch_add(1, Ordering::Relaxed);
                if n >= self.max_buffers {
                    self.allocated.fetch_sub(1, Ordering::Relaxed);
                    return None;
                }
                Box::new(MsgBuf {
                    len: 0,
                    data: [0; MSG_BUF_LEN],
                })
            }
        };
        Some(PoolBuf {
            buf: Some(buf),
            pool: Arc::clone(self),
        })
    }

    /// Buffers allocated so far (in flight or free).
    pub fn allocated(&self) -> usize {
        self.allocated.load(Ordering::Relaxed)
    }

    /// Buffers currently free.
    pub fn free(&self) -> usize {
        self.free.len()
    }
}

/// A buffer on loan from a [`BufferPool`]; goes back on drop.
pub struct PoolBuf {
    buf: Option<Box<MsgBuf>>,
    pool: Arc<BufferPool>,
}

impl Deref for PoolBuf {
    type Target = MsgBuf;
    fn deref(&self) -> &MsgBuf {
        // The Option is only emptied in drop.
        self.buf.as_deref().expect("buffer present until drop")
    }
}

impl DerefMut for PoolBuf {
    fn deref_mut(&mut self) -> &mut MsgBuf {
        self.buf.as_deref_mut().expect("buffer present until drop")
    }
}

impl Drop for PoolBuf {
    fn drop(&mut self) {
        if let Some(b) = self.buf.take() {
            // The queue's capacity equals the allocation bound, so this cannot fail; if it ever
            // did, freeing the box keeps the accounting honest.
            if self.pool.free.push(b).is_err() {
                self.pool.allocated.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_is_bounded_and_recycles() {
        let pool = BufferPool::new(2);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert!(pool.take().is_none(), "third buffer must be refused");
        drop(a);
        let c = pool.take().expect("a returned buffer is reused");
        assert_eq!(pool.allocated(), 2);
        drop(b);
        drop(c);
        assert_eq!(pool.free(), 2);
    }

    #[test]
    fn set_len_is_clamped() {
        let pool = BufferPool::new(1);
        let mut a = pool.take().unwrap();
        a.set_len(MSG_BUF_LEN + 100);
        assert_eq!(a.message().len(), MSG_BUF_LEN);
    }
}
