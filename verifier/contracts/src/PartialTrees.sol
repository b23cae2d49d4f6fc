// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";

/// The part of a Merkle tree a multiproof opened, read, written and re-rooted: the EVM twin of
/// `vm::multiproof::PartialTree`, with the same consensus rules (see vm/src/commit/multiproof.rs):
/// leaves are raw 32 bytes, inner nodes keccak256(left ‖ right), siblings listed level by level
/// (leaves first), for each known node in increasing order whose sibling is not known. A node
/// under a known node equal to ZERO[level] reads as zero, which is how grown trees read their new
/// part.
///
/// Nodes live in an open-addressing hash table in memory keyed by (level, index): lookups and
/// writes are O(1) whatever the tree, and the table grows with the writes of a step.
struct Tree {
    uint256 height;
    /// Slot k: key at 2k, value at 2k + 1; key = (level << 64 | index) + 1, 0 = empty.
    uint256[] slots;
    uint256 count;
    /// The node table is built on first use: a tree the step does not touch (most of a proof's)
    /// costs only the hashing that checks its opening, and a read of a listed leaf needs no table.
    bool tabled;
    TreeOpening opening;
    bytes32 checkedRoot;
}

/// A decoded multiproof: sorted leaf indices, their values, and the sibling list.
struct TreeOpening {
    uint256[] indices;
    bytes32[] leaves;
    bytes32[] siblings;
}

library PartialTrees {
    /// Highest tree any structure uses (`vm::merkle::MAX_HEIGHT`).
    uint256 internal constant MAX_HEIGHT = 40;

    /// ZERO[h] for h = 0 ..= MAX_HEIGHT: the root of an all-zero tree of height h.
    function zeroHashes() internal pure returns (bytes32[] memory z) {
        z = new bytes32[](MAX_HEIGHT + 1);
        assembly ("memory-safe") {
            let at := add(z, 0x20)
            mstore(0x00, 0)
            mstore(0x20, 0)
            for { let h := 1 } lt(h, 41) { h := add(h, 1) } {
                let v := keccak256(0x00, 0x40)
                mstore(add(at, shl(5, h)), v)
                mstore(0x00, v)
                mstore(0x20, v)
            }
        }
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            r := keccak256(0x00, 0x40)
        }
    }

    /// Smallest h with 2^h >= n (0 for n <= 1): `vm::merkle::height_for`.
    function heightFor(uint256 n) internal pure returns (uint256 h) {
        if (n <= 1) return 0;
        uint256 m = n - 1;
        while (m != 0) {
            h++;
            m >>= 1;
        }
    }

    // ---- the node table ----------------------------------------------------------------

    function newTable(uint256 expected) private pure returns (uint256[] memory slots) {
        uint256 cap = 16;
        while (cap < 2 * expected) cap <<= 1;
        slots = new uint256[](2 * cap);
    }

    /// Fibonacci hashing of a node key to its first slot.
    uint256 private constant SLOT_HASH = 0x9E3779B97F4A7C15F39CC0605CEDC835;

    function slotOf(uint256 key, uint256 cap) private pure returns (uint256) {
        unchecked {
            return ((key * SLOT_HASH) >> 128) & (cap - 1);
        }
    }

    // Tree's fields in memory: height at t, slots at t + 0x20, count at t + 0x40. A slot array
    // holds 2 * cap words after its length: key at base + 64k, value at base + 64k + 32.

    /// The memory address of `key`'s slot, or of the empty slot where it would go (linear probing).
    function find(Tree memory t, uint256 key) private pure returns (uint256 entry, bool found) {
        assembly ("memory-safe") {
            let slots := mload(add(t, 0x20))
            let mask := sub(shr(1, mload(slots)), 1)
            let base := add(slots, 0x20)
            let k := and(shr(128, mul(key, SLOT_HASH)), mask)
            for {} 1 {} {
                entry := add(base, shl(6, k))
                let stored := mload(entry)
                if eq(stored, key) {
                    found := 1
                    break
                }
                if iszero(stored) { break }
                k := and(add(k, 1), mask)
            }
        }
    }

    function get(Tree memory t, uint256 level, uint256 index) internal pure returns (bool found, bytes32 value) {
        uint256 entry;
        (entry, found) = find(t, ((level << 64) | index) + 1);
        if (found) {
            assembly ("memory-safe") {
                value := mload(add(entry, 0x20))
            }
        }
    }

    function put(Tree memory t, uint256 level, uint256 index, bytes32 value) internal pure {
        uint256 key = ((level << 64) | index) + 1;
        (uint256 entry, bool found) = find(t, key);
        assembly ("memory-safe") {
            mstore(entry, key)
            mstore(add(entry, 0x20), value)
        }
        if (!found) {
            unchecked {
                t.count++;
                // Keep the load at most one half.
                if (4 * t.count > t.slots.length) grow(t);
            }
        }
    }

    function grow(Tree memory t) private pure {
        uint256[] memory old = t.slots;
        uint256 newCap = old.length; // twice the old capacity (old.length = 2 * cap)
        uint256[] memory slots = new uint256[](2 * newCap);
        unchecked {
            for (uint256 i = 0; i < old.length; i += 2) {
                uint256 key = old[i];
                if (key == 0) continue;
                uint256 k = slotOf(key, newCap);
                while (slots[2 * k] != 0) k = (k + 1) & (newCap - 1);
                slots[2 * k] = key;
                slots[2 * k + 1] = old[i + 1];
            }
        }
        t.slots = slots;
    }

    // ---- opening ------------------------------------------------------------------------

    /// Checks that `o` opens a tree of `height` under `expected` and keeps the opened part
    /// (`PartialTree::open`). Reverts with OpeningFailed(what, reason).
    function open(bytes32 what, uint256 height, bytes32 expected, TreeOpening memory o)
        internal
        pure
        returns (Tree memory t)
    {
        if (height > MAX_HEIGHT) revert OpeningFailed(what, "tree height over the limit");
        t.height = height;
        t.opening = o;
        t.checkedRoot = expected;
        uint256[] memory indices = o.indices;
        unchecked {
            for (uint256 i = 0; i < indices.length; i++) {
                uint256 index = indices[i];
                if (index >> height != 0) revert OpeningFailed(what, "leaf index outside the tree");
                if (i > 0 && indices[i - 1] >= index) revert OpeningFailed(what, "leaf indices unsorted");
            }
        }
        if (indices.length != 0 && hashUp(t, what, false) != expected) revert OpeningFailed(what, "root mismatch");
        if (indices.length == 0 && o.siblings.length != 0) revert OpeningFailed(what, "extra siblings");
    }

    /// The root the opening's leaves and siblings hash to, level by level; with `store`, every
    /// node on the way goes into the node table.
    function hashUp(Tree memory t, bytes32 what, bool store) private pure returns (bytes32) {
        TreeOpening memory o = t.opening;
        uint256 n = o.indices.length;
        uint256 height = t.height;
        uint256[] memory idx = new uint256[](n);
        bytes32[] memory val = new bytes32[](n);
        bytes32[] memory sib = o.siblings;
        uint256 next = 0;
        unchecked {
            for (uint256 i = 0; i < n; i++) {
                idx[i] = o.indices[i];
                val[i] = o.leaves[i];
                if (store) put(t, 0, idx[i], val[i]);
            }
            for (uint256 level = 0; level < height; level++) {
                uint256 m = 0;
                uint256 i = 0;
                while (i < n) {
                    uint256 index = idx[i];
                    bytes32 left;
                    bytes32 right;
                    if (index & 1 == 0) {
                        left = val[i];
                        if (i + 1 < n && idx[i + 1] == index + 1) {
                            right = val[i + 1];
                            i += 2;
                        } else {
                            if (next >= sib.length) revert OpeningFailed(what, "missing sibling");
                            right = sib[next++];
                            if (store) put(t, level, index + 1, right);
                            i += 1;
                        }
                    } else {
                        if (next >= sib.length) revert OpeningFailed(what, "missing sibling");
                        left = sib[next++];
                        if (store) put(t, level, index - 1, left);
                        right = val[i];
                        i += 1;
                    }
                    bytes32 parent = hashPair(left, right);
                    idx[m] = index >> 1;
                    val[m] = parent;
                    if (store) put(t, level + 1, index >> 1, parent);
                    m++;
                }
                n = m;
            }
        }
        if (next != sib.length) revert OpeningFailed(what, "extra siblings");
        return val[0];
    }

    /// Builds the node table from the (already checked) opening.
    function table(Tree memory t) private pure {
        if (t.tabled) return;
        TreeOpening memory o = t.opening;
        t.slots = newTable(o.indices.length * (t.height + 1) + o.siblings.length + 4);
        t.tabled = true;
        if (o.indices.length == 0) put(t, t.height, 0, t.checkedRoot);
        else hashUp(t, "", true);
    }

    // ---- reading and writing ------------------------------------------------------------

    function root(Tree memory t, bytes32[] memory zero) internal pure returns (bytes32) {
        if (!t.tabled) return t.checkedRoot;
        (bool found, bytes32 r) = get(t, t.height, 0);
        return found ? r : zero[t.height];
    }

    /// The node at (level, index) if opened or inside a known all-zero subtree.
    function node(Tree memory t, bytes32[] memory zero, uint256 level, uint256 index)
        internal
        pure
        returns (bool, bytes32)
    {
        table(t);
        (bool found, bytes32 h) = get(t, level, index);
        if (found) return (true, h);
        for (uint256 up = level + 1; up <= t.height; up++) {
            (bool f, bytes32 a) = get(t, up, index >> (up - level));
            if (f && a == zero[up]) return (true, zero[level]);
        }
        return (false, 0);
    }

    /// Leaf `index`; `ok` is false if it is outside the tree or not opened.
    function leaf(Tree memory t, bytes32[] memory zero, uint256 index) internal pure returns (bool ok, bytes32 value) {
        if (index >> t.height != 0) return (false, 0);
        if (!t.tabled) {
            // Before any write, a listed leaf is its listed value.
            uint256[] memory indices = t.opening.indices;
            for (uint256 i = 0; i < indices.length; i++) {
                if (indices[i] == index) return (true, t.opening.leaves[i]);
            }
        }
        return node(t, zero, 0, index);
    }

    /// Writes leaf `index` and re-hashes its path (`PartialTree::set_leaf`); false if the leaf or
    /// a sibling on its path is not opened.
    function setLeaf(Tree memory t, bytes32[] memory zero, uint256 index, bytes32 value) internal pure returns (bool) {
        (bool ok,) = leaf(t, zero, index);
        if (!ok) return false;
        bytes32[] memory one = new bytes32[](1);
        one[0] = value;
        return setLeaves(t, zero, index, one);
    }

    /// Grows the tree to `height` (no-op if not higher): the old tree becomes the leftmost subtree.
    function growTo(Tree memory t, bytes32[] memory zero, uint256 height, bytes32 what) internal pure {
        if (height > MAX_HEIGHT) revert OpeningFailed(what, "tree height over the limit");
        if (t.height < height) table(t);
        while (t.height < height) {
            uint256 level = t.height;
            bytes32 r = root(t, zero);
            put(t, level, 0, r);
            put(t, level, 1, zero[level]);
            put(t, level + 1, 0, hashPair(r, zero[level]));
            t.height = level + 1;
        }
    }

    /// Word `word` (little-endian u64, four per leaf) of a word tree; false if not opened.
    function word(Tree memory t, bytes32[] memory zero, uint256 w) internal pure returns (bool ok, uint64 value) {
        bytes32 l;
        (ok, l) = leaf(t, zero, w >> 2);
        if (!ok) return (false, 0);
        value = leWord(l, (w & 3) * 8);
    }

    function setWord(Tree memory t, bytes32[] memory zero, uint256 w, uint64 value) internal pure returns (bool) {
        (bool ok, bytes32 l) = leaf(t, zero, w >> 2);
        if (!ok) return false;
        uint256 shift = (24 - (w & 3) * 8) * 8;
        uint256 cleared = uint256(l) & ~(uint256(type(uint64).max) << shift);
        return setLeaf(t, zero, w >> 2, bytes32(cleared | (uint256(swap64(value)) << shift)));
    }

    /// The little-endian u64 at byte `offset` of a leaf.
    function leWord(bytes32 l, uint256 offset) internal pure returns (uint64) {
        return swap64(uint64(uint256(l) >> ((24 - offset) * 8)));
    }

    /// Byte-order swap of the low 4 bytes of `v` (every little-endian u32 field of the formats).
    function swap32(uint256 v) internal pure returns (uint256) {
        uint32 x = uint32(v);
        x = ((x & 0xff00ff00) >> 8) | ((x & 0x00ff00ff) << 8);
        return (x >> 16) | (x << 16);
    }

    /// Byte-order swap of a u64.
    function swap64(uint64 v) internal pure returns (uint64) {
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        return (v >> 32) | (v << 32);
    }

    /// Reads `len` (<= 32) bytes at byte `offset` of a byte-string tree, as the high `len` bytes
    /// of the result; false if a leaf is not opened.
    function readBytes32(Tree memory t, bytes32[] memory zero, uint256 offset, uint256 len)
        internal
        pure
        returns (bool, bytes32 out)
    {
        uint256 done = 0;
        while (done < len) {
            uint256 byteAt = offset + done;
            (bool ok, bytes32 l) = leaf(t, zero, byteAt >> 5);
            if (!ok) return (false, 0);
            uint256 start = byteAt & 31;
            uint256 n = 32 - start;
            if (n > len - done) n = len - done;
            // Bytes start .. start + n of the leaf, placed at bytes done .. done + n of out.
            bytes32 piece = bytes32((uint256(l) << (start * 8)));
            piece = piece & bytes32(~(type(uint256).max >> (n * 8)));
            out |= bytes32(uint256(piece) >> (done * 8));
            done += n;
        }
        return (true, out);
    }

    /// Writes the high `len` (<= 32) bytes of `data` at byte `offset`; false if not opened.
    function writeBytes32(Tree memory t, bytes32[] memory zero, uint256 offset, bytes32 data, uint256 len)
        internal
        pure
        returns (bool)
    {
        bytes memory buf = new bytes(len);
        assembly ("memory-safe") {
            mstore(add(buf, 0x20), data)
        }
        return writeBytes(t, zero, offset, buf);
    }

    /// Reads `buf.length` bytes at `offset` into `buf`.
    function readBytes(Tree memory t, bytes32[] memory zero, uint256 offset, bytes memory buf) internal pure returns (bool) {
        for (uint256 done = 0; done < buf.length; done += 32) {
            uint256 n = buf.length - done < 32 ? buf.length - done : 32;
            (bool ok, bytes32 chunk) = readBytes32(t, zero, offset + done, n);
            if (!ok) return false;
            assembly ("memory-safe") {
                let p := add(add(buf, 0x20), done)
                switch n
                case 32 { mstore(p, chunk) }
                default {
                    // A short tail: keep the bytes past the buffer.
                    let mask := not(shr(mul(n, 8), not(0)))
                    mstore(p, or(and(chunk, mask), and(mload(p), not(mask))))
                }
            }
        }
        return true;
    }

    /// Writes `data` at `offset` (`PartialTree::write_bytes`): every leaf it touches must be
    /// readable; the leaves are patched and their paths re-hashed once (`setLeaves`).
    function writeBytes(Tree memory t, bytes32[] memory zero, uint256 offset, bytes memory data)
        internal
        pure
        returns (bool)
    {
        if (data.length == 0) return true;
        uint256 first = offset >> 5;
        uint256 last = (offset + data.length - 1) >> 5;
        bytes32[] memory leaves = new bytes32[](last - first + 1);
        for (uint256 i = 0; i < leaves.length; i++) {
            (bool ok, bytes32 l) = leaf(t, zero, first + i);
            if (!ok) return false;
            leaves[i] = l;
        }
        // Leaf bytes [start, start + n) of each leaf come from the next n bytes of data.
        uint256 done = 0;
        for (uint256 i = 0; i < leaves.length; i++) {
            uint256 start = i == 0 ? offset & 31 : 0;
            uint256 n = 32 - start;
            if (n > data.length - done) n = data.length - done;
            bytes32 chunk;
            assembly ("memory-safe") {
                chunk := mload(add(add(data, 0x20), done))
            }
            uint256 mask = (~(type(uint256).max >> (n * 8))) >> (start * 8);
            uint256 piece = uint256(chunk) >> (start * 8);
            leaves[i] = bytes32((uint256(leaves[i]) & ~mask) | (piece & mask));
            done += n;
        }
        return setLeaves(t, zero, first, leaves);
    }

    /// Writes the leaves `first ..` and re-hashes the paths above them once. The same tree as
    /// `set_leaf` on each in turn: every node the range's paths pass next to must be readable
    /// (those inside the range are), and those siblings are materialized as there.
    function setLeaves(Tree memory t, bytes32[] memory zero, uint256 first, bytes32[] memory values)
        internal
        pure
        returns (bool)
    {
        table(t);
        uint256 lo = first;
        uint256 hi = first + values.length - 1;
        for (uint256 i = 0; i < values.length; i++) {
            put(t, 0, first + i, values[i]);
        }
        for (uint256 level = 0; level < t.height; level++) {
            for (uint256 p = lo >> 1; p <= hi >> 1; p++) {
                // Nodes in the range were just written; the others are materialized.
                (bool fl, bytes32 l) = node(t, zero, level, 2 * p);
                (bool fr, bytes32 r) = node(t, zero, level, 2 * p + 1);
                if (!fl || !fr) return false;
                if (2 * p < lo) put(t, level, 2 * p, l);
                if (2 * p + 1 > hi) put(t, level, 2 * p + 1, r);
                put(t, level + 1, p, hashPair(l, r));
            }
            lo >>= 1;
            hi >>= 1;
        }
        return true;
    }
}
