// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {Tree, TreeOpening, PartialTrees} from "./PartialTrees.sol";
import {State, MachineStates, MachineHashing} from "./MachineState.sol";
import {HostOpening, Cursor, ProofDecoding} from "./ProofDecoding.sol";

/// A host-call step: the import the proof names, checked against the module's imports root, and the
/// STF host's provable semantics (verifier/src/stf_host.rs), with the prover's witness checked
/// against what the checker trusts: the host root for the batch and outputs, keccak256 for
/// preimages, the EVM's KECCAK256 and ecrecover precompile for the two crypto imports.
library HostCall {
    using PartialTrees for Tree;

    uint256 private constant HOST_BIT = 0x80000000;
    uint256 private constant TRAP_MEMORY_OUT_OF_BOUNDS = 5;
    uint256 private constant TRAP_CHUNK_TOO_LARGE = HOST_BIT | 1;
    /// `program::ledger::MAX_CHUNK`: bytes one call may move.
    uint256 private constant MAX_CHUNK = 1024;
    /// `verifier::stf_host::MAX_PREIMAGE`.
    uint256 private constant MAX_PREIMAGE = 1 << 15;
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// The STF host's committed state (`StfHostState`).
    struct HostState {
        uint256 batchLen;
        bytes32 batchRoot;
        bytes32 outputHash;
    }

    /// `StfWitness`: tag 0 None, 1 Inbox, 2 Preimage, 3 State, 4 BlobElement.
    struct Witness {
        uint256 tag;
        HostState state;
        TreeOpening chunk;
        bytes preimage;
        /// BlobElement: the element y (32) ‖ the blob's commitment (48) ‖ the KZG proof (48), the
        /// point-evaluation input but for the versioned hash and the point.
        bytes blobOpening;
    }

    /// The BLS12-381 scalar field's modulus (`verifier::blobs::BLS_MODULUS`).
    uint256 private constant BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// The primitive 4,096th root of unity 7^((r - 1) / 4096) mod r: element i of a blob is the
    /// blob polynomial's value at ROOT_OF_UNITY^bitrev12(i) (EIP-4844).
    uint256 private constant ROOT_OF_UNITY = 0x564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d36306;

    function call(State memory s, uint256 func, uint64[] memory args)
        internal
        view
        returns (uint256 trap, uint64[] memory results)
    {
        HostOpening memory h = s.host;
        if (!h.present) revert NotOpened("the host call's import");
        MachineStates.requireRest(s);
        MachineStates.requireCold(s);
        if (func >= s.rest.imports) revert InvalidState("host call of a defined function");
        Tree memory imports = PartialTrees.open(
            "imports", PartialTrees.heightFor(s.rest.imports), s.rest.importsRoot, h.importProof
        );
        for (uint256 i = 0; i < h.params.length; i++) {
            if (!isValType(uint8(h.params[i]))) revert HostRejected("unknown value type in import");
        }
        for (uint256 i = 0; i < h.results.length; i++) {
            if (!isValType(uint8(h.results[i]))) revert HostRejected("unknown value type in import");
        }
        (bool ok, bytes32 l) = imports.leaf(func);
        if (!ok || l != importLeaf(h)) revert HostRejected("import not in the imports root");
        if (h.params.length != args.length) revert InvalidState("host call arity");
        return stf(s, h, args);
    }

    function isValType(uint256 c) private pure returns (bool) {
        return c == 0x7f || c == 0x7e || c == 0x7d || c == 0x7c || c == 0x70 || c == 0x6f;
    }

    /// `vm::commitment::import_leaf`.
    function importLeaf(HostOpening memory h) private pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                MachineHashing.le32(h.module.length),
                h.module,
                MachineHashing.le32(h.name.length),
                h.name,
                MachineHashing.le32(h.params.length),
                h.params,
                MachineHashing.le32(h.results.length),
                h.results
            )
        );
    }

    /// Which STF import `h` is (`IMPORTS` in stf_host.rs: name, parameter and result types), or
    /// reverts.
    function importId(HostOpening memory h) private pure returns (uint256) {
        if (keccak256(h.module) != keccak256("hauptbuch")) revert HostRejected("not an STF import");
        bytes32 id = keccak256(abi.encodePacked(h.name, bytes1(0xff), h.params, bytes1(0xff), h.results));
        // keccak256(name ‖ 0xff ‖ params ‖ 0xff ‖ results) of each import, in id order (0xff is
        // neither UTF-8 nor a value type, so the encoding is unambiguous).
        if (id == 0xbf9136641207b52480691b88c2afc2badd369b0dd8a8ef4d0660d5ec97ef4f7f) return 0; // inbox_len
        if (id == 0x18874cd66a458603f3f6945f93623f2aef701a5ea87aec4c9e2642be9aad6dc0) return 1; // read_inbox
        if (id == 0xd2a627282082a2df0e764d47e3fa5b7bfb31404609411e272692458716e315d6) return 2; // read_preimage
        if (id == 0x6f39521a7a147ad52cbe29943d7724288a11bcd00d78df70592abf9391a90835) return 3; // emit_node
        if (id == 0x963f996be547b3456f3c40b0c0f8fa2f8fcd2413676688a634e2450f3a3577e1) return 4; // write_output
        if (id == 0xbac45d08ba0daa526dcd46071339d20c95021f1e4d7cb3ad9a1a0e85b30cde20) return 5; // keccak256
        if (id == 0xe90f7c5762585df18b25fe92a08c0ac26d1a472278b5148039a5410b166dd42f) return 6; // ecrecover
        if (id == 0x6a69506ac4377ef3b47bf070a074b83afb0f499f828876b68d971f44a6a92e03) return 7; // read_blob
        revert HostRejected("not an STF import");
    }

    function decodeWitness(HostOpening memory h) private pure returns (Witness memory w) {
        Cursor memory c = Cursor(h.witnessStart, h.witnessEnd, h.witnessStart);
        // A witness that does not decode is refused, whatever the call would do.
        uint256 tag = ProofDecoding.u32_(c);
        if (tag > 4) revert HostRejected("malformed host witness");
        w.tag = tag;
        if (tag == 1 || tag == 3) {
            w.state.batchLen = ProofDecoding.u32_(c);
            w.state.batchRoot = ProofDecoding.hash(c);
            w.state.outputHash = ProofDecoding.hash(c);
        }
        if (tag == 1) ProofDecoding.treeOpening(c, w.chunk);
        if (tag == 2) w.preimage = ProofDecoding.byteVec(c);
        if (tag == 4) {
            // Three fixed arrays (32, 48, 48 bytes: no lengths), read as the four words they fill.
            bytes32 w0 = ProofDecoding.hash(c);
            bytes32 w1 = ProofDecoding.hash(c);
            bytes32 w2 = ProofDecoding.hash(c);
            bytes32 w3 = ProofDecoding.hash(c);
            w.blobOpening = abi.encodePacked(w0, w1, w2, w3);
        }
        if (c.pos != c.end) revert HostRejected("malformed host witness");
    }

    function commitment(HostState memory st) private pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                "hauptbuch.stf.host.v1",
                bytes1(0),
                MachineHashing.bytesCommitment(st.batchLen, st.batchRoot),
                st.outputHash
            )
        );
    }

    function checkState(State memory s, HostState memory st) private pure {
        if (commitment(st) != s.cold.hostRoot) revert HostRejected("host state does not match");
    }

    // ---- guest memory as the host sees it: bounds trap, unopened leaves reject ---------------

    function inBounds(State memory s, uint256 addr, uint256 len) private pure returns (bool) {
        return addr + len <= s.memoryPages * 65536;
    }

    function readMem(State memory s, uint256 addr, uint256 len) private pure returns (bool, bytes memory buf) {
        if (!inBounds(s, addr, len)) return (false, buf);
        buf = new bytes(len);
        if (!s.memory_.readBytes(addr, buf)) revert HostRejected("memory not opened");
        return (true, buf);
    }

    function writeMem(State memory s, uint256 addr, bytes memory data) private pure returns (bool) {
        if (!inBounds(s, addr, data.length)) return false;
        if (!s.memory_.writeBytes(addr, data)) revert HostRejected("memory not opened");
        return true;
    }

    function one(uint256 v) private pure returns (uint64[] memory r) {
        r = new uint64[](1);
        r[0] = uint64(v);
    }

    function stf(State memory s, HostOpening memory h, uint64[] memory args)
        private
        view
        returns (uint256, uint64[] memory)
    {
        uint256 id = importId(h);
        Witness memory w = decodeWitness(h);
        uint64[] memory none = new uint64[](0);
        // Parameters are i32 words: their low 32 bits.
        uint256[4] memory a;
        for (uint256 i = 0; i < args.length && i < 4; i++) {
            a[i] = uint256(args[i]) & 0xffffffff;
        }
        if (id == 0) {
            if (w.tag != 1) revert HostRejected("inbox_len needs the host state");
            checkState(s, w.state);
            return (0, one(w.state.batchLen));
        }
        if (id == 1) {
            (uint256 offset, uint256 ptr, uint256 len) = (a[0], a[1], a[2]);
            if (len > MAX_CHUNK) return (TRAP_CHUNK_TOO_LARGE, none);
            if (w.tag != 1) revert HostRejected("read_inbox needs the state");
            checkState(s, w.state);
            uint256 avail = w.state.batchLen > offset ? w.state.batchLen - offset : 0;
            uint256 n = avail < len ? avail : len;
            bytes memory buf = new bytes(n);
            if (n > 0) {
                Tree memory batch = PartialTrees.open(
                    "batch chunk", PartialTrees.heightFor((w.state.batchLen + 31) / 32), w.state.batchRoot, w.chunk
                );
                if (!batch.readBytes(offset, buf)) revert HostRejected("batch chunk not opened");
            }
            if (!writeMem(s, ptr, buf)) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            return (0, one(n));
        }
        if (id == 2) {
            (bool ok, bytes memory hashBytes) = readMem(s, a[0], 32);
            if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            (uint256 offset, uint256 ptr, uint256 len) = (a[1], a[2], a[3]);
            if (len > MAX_CHUNK) return (TRAP_CHUNK_TOO_LARGE, none);
            if (w.tag != 2) revert HostRejected("read_preimage needs the preimage");
            if (w.preimage.length > MAX_PREIMAGE || keccak256(w.preimage) != bytes32(hashBytes)) {
                revert HostRejected("not the preimage");
            }
            uint256 restLen = w.preimage.length > offset ? w.preimage.length - offset : 0;
            uint256 n = restLen < len ? restLen : len;
            bytes memory out = new bytes(n);
            bytes memory preimage = w.preimage;
            // One copy of the window (offset + n <= preimage.length, or n = 0); a byte loop
            // cost ~100 gas a byte.
            assembly ("memory-safe") {
                mcopy(add(out, 0x20), add(add(preimage, 0x20), offset), n)
            }
            if (!writeMem(s, ptr, out)) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            return (0, one(w.preimage.length));
        }
        if (id == 3) {
            if (a[1] > MAX_CHUNK) return (TRAP_CHUNK_TOO_LARGE, none);
            if (!inBounds(s, a[0], a[1])) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            return (0, none);
        }
        if (id == 4) {
            if (a[1] > MAX_CHUNK) return (TRAP_CHUNK_TOO_LARGE, none);
            (bool ok, bytes memory bytes_) = readMem(s, a[0], a[1]);
            if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            if (w.tag != 3) revert HostRejected("write_output needs the state");
            checkState(s, w.state);
            w.state.outputHash = keccak256(bytes_);
            s.cold.hostRoot = commitment(w.state);
            return (0, none);
        }
        if (id == 5) {
            if (a[1] > MAX_CHUNK) return (TRAP_CHUNK_TOO_LARGE, none);
            (bool ok, bytes memory data) = readMem(s, a[0], a[1]);
            if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            if (!writeMem(s, a[2], abi.encodePacked(keccak256(data)))) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
            return (0, none);
        }
        if (id == 6) return ecrecoverCall(s, a, none);
        return readBlobCall(s, a, w, none);
    }

    /// `read_blob(hash_ptr, index, out_ptr)`: the witness's element, if its KZG opening proves it
    /// is element `index` of the blob with that versioned hash. The point-evaluation precompile
    /// (0x0A) checks the commitment against the versioned hash and the opening at the element's
    /// evaluation point, ROOT_OF_UNITY^bitrev12(index), computed with modexp (0x05). A witness of
    /// another kind, an index past the blob or an opening that does not hold: rejected.
    function readBlobCall(State memory s, uint256[4] memory a, Witness memory w, uint64[] memory none)
        private
        view
        returns (uint256, uint64[] memory)
    {
        (bool ok, bytes memory hashBytes) = readMem(s, a[0], 32);
        if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
        bytes memory opening = w.blobOpening;
        uint256 index = a[1];
        bool holds = w.tag == 4 && index < 4096;
        assembly ("memory-safe") {
            let reversed := 0
            for { let bit := 0 } lt(bit, 12) { bit := add(bit, 1) } {
                reversed := or(shl(1, reversed), and(shr(bit, index), 1))
            }
            // modexp(ROOT_OF_UNITY, reversed, r) in scratch past the free pointer; z lands at p + 32.
            let p := mload(0x40)
            mstore(p, 32)
            mstore(add(p, 32), 32)
            mstore(add(p, 64), 32)
            mstore(add(p, 96), ROOT_OF_UNITY)
            mstore(add(p, 128), reversed)
            mstore(add(p, 160), BLS_MODULUS)
            holds := and(holds, staticcall(gas(), 0x05, p, 192, add(p, 32), 32))
            // versioned hash ‖ z ‖ y ‖ commitment ‖ proof
            mstore(p, mload(add(hashBytes, 32)))
            mcopy(add(p, 64), add(opening, 32), 128)
            holds := and(holds, staticcall(gas(), 0x0a, p, 192, 0, 64))
            // It answers FIELD_ELEMENTS_PER_BLOB ‖ BLS_MODULUS when the opening holds.
            holds := and(holds, and(eq(returndatasize(), 64), eq(mload(0), 4096)))
        }
        if (!holds) revert HostRejected("not the blob element");
        bytes memory value = new bytes(32);
        assembly ("memory-safe") {
            mstore(add(value, 32), mload(add(opening, 32)))
        }
        if (!writeMem(s, a[2], value)) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
        return (0, one(1));
    }

    function ecrecoverCall(State memory s, uint256[4] memory a, uint64[] memory none)
        private
        view
        returns (uint256, uint64[] memory)
    {
        (bool ok, bytes memory hashBytes) = readMem(s, a[0], 32);
        if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
        bytes memory sig;
        (ok, sig) = readMem(s, a[1], 65);
        if (!ok) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
        address signer = recover(bytes32(hashBytes), sig);
        if (signer == address(0)) return (0, one(0));
        if (!writeMem(s, a[2], abi.encodePacked(signer))) return (TRAP_MEMORY_OUT_OF_BOUNDS, none);
        return (0, one(1));
    }

    /// `program::ecrecover`: v in {0, 1}, r and s in [1, n), s in the lower half; the EVM's
    /// precompile does the rest (it takes v + 27 and accepts high s, hence the checks).
    function recover(bytes32 hash, bytes memory sig) private view returns (address) {
        bytes32 r;
        bytes32 sv;
        assembly ("memory-safe") {
            r := mload(add(sig, 0x20))
            sv := mload(add(sig, 0x40))
        }
        uint256 v = uint8(sig[64]);
        if (v > 1) return address(0);
        uint256 ri = uint256(r);
        uint256 si = uint256(sv);
        if (ri == 0 || ri >= SECP256K1_N || si == 0 || si > SECP256K1_N / 2) return address(0);
        return ecrecover(hash, uint8(v + 27), r, sv);
    }
}
