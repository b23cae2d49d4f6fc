//! The sequencer section's envelope: how the sequencer's part of an inbox message is compressed.
//!
//! Bytes on L1 are what a transaction costs, so the sequencer compresses its section. The
//! envelope is consensus (both STFs open it here, the guest and the host alike):
//!
//! | byte 0 | the rest |
//! |---|---|
//! | `0x00` ([`RAW`]) | the section's encoding as is (nothing at all reads as the count 0: no transactions, no blocks; the single byte `0x00` is what the inbox posts for a forced batch) |
//! | `0x01` ([`BROTLI`]) | one brotli stream (RFC 7932, window at most 2^24) of the section's encoding, ending exactly at the end of the section |
//!
//! Anything else, an empty section, a stream that does not decode or has bytes after its end, is
//! `Malformed`; a stream that decompresses past [`MAX_SECTION_BYTES`] (a bomb) is `TooLarge`,
//! found while decompressing, never after. Either refuses the sequencer's section only: the
//! delayed messages (deposits, forced transactions) are applied whatever the sequencer posted.
//!
//! Brotli was measured against DEFLATE (miniz_oxide), zstd and lz4 on 1,000-transaction sections
//! (`program/README.md`): it is the smallest on every one (ERC-20 transfers: 41% of the encoding
//! against DEFLATE's 45%), and its decoding costs a few guest steps per byte, small beside
//! executing the transactions. Arbitrum posts brotli too.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use brotli_decompressor::{
    BrotliDecompressStream, BrotliResult, BrotliState, SliceWrapper, SliceWrapperMut,
};

use crate::abi::Abi;
use crate::blob::{element_data, DATA_PER_FIELD_ELEMENT, FIELD_ELEMENTS_PER_BLOB};
use crate::types::RejectReason;

/// Version byte: the encoding follows as is.
pub const RAW: u8 = 0x00;
/// Version byte: a brotli stream of the encoding follows.
pub const BROTLI: u8 = 0x01;
/// Version byte, written by the inbox only: the section is in EIP-4844 blobs
/// ([`BlobReference`]).
pub const BLOBS: u8 = 0x02;
/// The most bytes a compressed section may decompress to: 16 MiB, Nitro's bound too. A legitimate
/// section is far below it (the inbox takes at most `Config::max_batch_bytes` compressed, and
/// transactions compress to no less than about a quarter); a bomb stops here.
pub const MAX_SECTION_BYTES: usize = 16 << 20;
/// Bytes decompressed per call into the decoder.
const OUTPUT_CHUNK: usize = 64 << 10;
/// What an empty raw section reads as: the count 0 that every section encoding starts with.
const EMPTY_LIST: &[u8] = &[0];

/// The section's encoding, decompressed if it was: `Malformed` or `TooLarge` as the module says.
pub fn open(posted: &[u8]) -> Result<Cow<'_, [u8]>, RejectReason> {
    match posted.split_first() {
        Some((&RAW, [])) => Ok(Cow::Borrowed(EMPTY_LIST)),
        Some((&RAW, encoding)) => Ok(Cow::Borrowed(encoding)),
        Some((&BROTLI, stream)) => decompress(stream).map(Cow::Owned),
        _ => Err(RejectReason::Malformed),
    }
}

/// Where a section posted in blobs is: what the inbox writes in its place in the message, the
/// byte [`BLOBS`], the section's length (u32 big-endian), then each blob's versioned hash (32
/// bytes), as many as the length needs ([`crate::blob`] lays the section out in them). The blobs
/// hold a posted section of its own: [`RAW`] or [`BROTLI`], never [`BLOBS`] again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobReference {
    pub len: u32,
    pub versioned_hashes: Vec<[u8; 32]>,
}

impl BlobReference {
    /// The reference a section is, if it is one and well-formed (the inbox writes no other).
    pub fn of(posted: &[u8]) -> Option<BlobReference> {
        let (&BLOBS, rest) = posted.split_first()? else {
            return None;
        };
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        let hashes = rest.get(4..)?;
        if hashes.len() % 32 != 0
            || hashes.len() / 32 != crate::blob::blobs_for(len as usize)
            || len == 0
        {
            return None;
        }
        Some(BlobReference {
            len,
            versioned_hashes: hashes
                .chunks_exact(32)
                .filter_map(|hash| hash.try_into().ok())
                .collect(),
        })
    }

    /// The reference's bytes, as the inbox writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(5 + 32 * self.versioned_hashes.len());
        bytes.push(BLOBS);
        bytes.extend_from_slice(&self.len.to_be_bytes());
        for hash in &self.versioned_hashes {
            bytes.extend_from_slice(hash);
        }
        bytes
    }
}

/// Opens the section of an inbox message as the STF finds it: in the message ([`open`]), or in
/// blobs the inbox's [`BlobReference`] names, read through [`Abi::read_blob`] one field element
/// a call and then opened as a section in calldata. `UnknownPreimage` if the host does not know a
/// blob (the STF rejects the batch whole); otherwise the errors of [`open`], and `Malformed` for
/// an element that does not start with a zero byte.
pub fn open_posted<'a, A: Abi + ?Sized>(
    abi: &mut A,
    posted: &'a [u8],
) -> Result<Cow<'a, [u8]>, RejectReason> {
    if posted.first() != Some(&BLOBS) {
        return open(posted);
    }
    let reference = BlobReference::of(posted).ok_or(RejectReason::Malformed)?;
    let len = reference.len as usize;
    let mut data = Vec::with_capacity(len);
    let mut element = [0u8; 32];
    'blobs: for hash in &reference.versioned_hashes {
        for index in 0..FIELD_ELEMENTS_PER_BLOB as u32 {
            let want = (len - data.len()).min(DATA_PER_FIELD_ELEMENT);
            if want == 0 {
                break 'blobs;
            }
            if !abi.read_blob(hash, index, &mut element) {
                return Err(RejectReason::UnknownPreimage);
            }
            let bytes = element_data(&element).ok_or(RejectReason::Malformed)?;
            data.extend_from_slice(bytes.get(..want).ok_or(RejectReason::Malformed)?);
        }
    }
    // A section in blobs is in calldata form: BLOBS again is not a version `open` takes.
    Ok(Cow::Owned(open(&data)?.into_owned()))
}

/// An encoding posted uncompressed; the empty list (count 0) as the one byte `0x00`, as the inbox
/// posts a forced batch (nodes know that byte's hash and need not fetch the calldata).
pub fn raw(encoding: &[u8]) -> Vec<u8> {
    if encoding == EMPTY_LIST {
        return vec![RAW];
    }
    let mut posted = Vec::with_capacity(encoding.len() + 1);
    posted.push(RAW);
    posted.extend_from_slice(encoding);
    posted
}

fn decompress(stream: &[u8]) -> Result<Vec<u8>, RejectReason> {
    let mut state = BrotliState::new(Heap, Heap, Heap);
    // Large windows (RFC 9841, up to 2^30) are not brotli proper and would let a few bytes claim a
    // 1 GiB ring buffer.
    state.large_window = false;
    // Room for a typical ratio up front: every reallocation is a copy, in guest steps.
    let mut encoding = Vec::with_capacity(stream.len().saturating_mul(3).min(MAX_SECTION_BYTES));
    let mut chunk = vec![0u8; OUTPUT_CHUNK];
    let (mut available_in, mut input_offset, mut total_out) = (stream.len(), 0, 0);
    loop {
        let (mut available_out, mut output_offset) = (chunk.len(), 0);
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            stream,
            &mut available_out,
            &mut output_offset,
            &mut chunk,
            &mut total_out,
            &mut state,
        );
        let produced = chunk.get(..output_offset).ok_or(RejectReason::Malformed)?;
        if encoding.len().saturating_add(produced.len()) > MAX_SECTION_BYTES {
            return Err(RejectReason::TooLarge);
        }
        encoding.extend_from_slice(produced);
        match result {
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultSuccess if available_in == 0 => return Ok(encoding),
            // Bytes after the stream's end, a stream cut short, or one that does not decode.
            _ => return Err(RejectReason::Malformed),
        }
    }
}

/// The decoder's allocator: zeroed boxed slices from the global allocator (the guest's bump
/// allocator never frees, and the decoder's tables are small beside its output).
#[derive(Clone, Copy, Default)]
struct Heap;

#[derive(Default)]
struct HeapSlice<T>(Box<[T]>);

impl<T> SliceWrapper<T> for HeapSlice<T> {
    fn slice(&self) -> &[T] {
        &self.0
    }
}

impl<T> SliceWrapperMut<T> for HeapSlice<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: Clone + Default> brotli_decompressor::Allocator<T> for Heap {
    type AllocatedMemory = HeapSlice<T>;

    fn alloc_cell(&mut self, len: usize) -> HeapSlice<T> {
        HeapSlice(vec![T::default(); len].into_boxed_slice())
    }

    fn free_cell(&mut self, _: HeapSlice<T>) {}
}

#[cfg(test)]
mod tests;
