// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {StepProof, MachineOpening, ProofDecoding} from "./ProofDecoding.sol";
import {State, MachineStates, MachineHashing} from "./MachineState.sol";
import {Op} from "./Ops.sol";
import {Step} from "./Step.sol";

/// The op at pc belongs to another checker (`Step.classOf`); the entry asks that one.
error WrongChecker(uint256 class_);

/// One checker contract: the whole check of a proof (decoding, the pre-state, every opening, the
/// post-state) around the steps of one op class. The checker is split by op class only because
/// all of it does not fit one contract (EIP-170); every part checks everything but the step.
abstract contract StepChecker {
    function check(bytes32 pre, bytes calldata proof) external view returns (bytes32 post) {
        StepProof memory p = ProofDecoding.decode(proof);
        MachineOpening memory m = p.machine;
        bytes32 restHash = p.restOpen ? MachineHashing.restHash(p.rest) : p.restHash;
        bytes32 moduleHash = MachineHashing.moduleHash(p.codeLen, p.codeRoot, restHash);
        if (!m.coldOpen) {
            if (p.tables.length != 0) revert BadOpening("tables");
        } else if (MachineHashing.tablesHash(p.tables) != m.cold.tablesHash) {
            revert TablesMismatch();
        }
        bytes32 coldHash = m.coldOpen ? MachineHashing.coldHash(m.cold) : m.coldHash;
        bytes32 found = MachineHashing.machineHash(
            m.status,
            m.trap,
            m.pc,
            m.fp,
            m.sp,
            m.stackReserved,
            m.stackRoot,
            m.memoryPages,
            m.memoryRoot,
            moduleHash,
            coldHash
        );
        if (found != pre) revert PreStateMismatch(pre, found);
        // A machine that is not running steps to itself.
        if (m.status != MachineHashing.RUNNING) return found;
        State memory s = MachineStates.open(p);
        Op memory op = Step.fetch(s);
        uint256 class_ = Step.classOf(op.code);
        if (class_ != CLASS) revert WrongChecker(class_);
        (uint256 end, uint256 trap) = execute(s, op);
        if (trap != 0) {
            // A trapping step changes only the status.
            return MachineHashing.machineHash(
                MachineHashing.TRAPPED,
                trap,
                m.pc,
                m.fp,
                m.sp,
                m.stackReserved,
                m.stackRoot,
                m.memoryPages,
                m.memoryRoot,
                moduleHash,
                coldHash
            );
        }
        uint256 status = end == Step.FINISHED ? MachineHashing.FINISHED : MachineHashing.RUNNING;
        return MachineStates.postHash(s, status, moduleHash, coldHash);
    }

    uint256 internal immutable CLASS;

    constructor(uint256 class_) {
        CLASS = class_;
    }

    function execute(State memory s, Op memory op) internal view virtual returns (uint256, uint256);
}

/// Control (but host calls), variables, loads, stores, memory.size/grow.
contract CoreChecker is StepChecker(Step.CORE) {
    function execute(State memory s, Op memory op) internal pure override returns (uint256, uint256) {
        return Step.executeCore(s, op);
    }
}

/// Constants, numeric ops and fused ops.
contract ArithChecker is StepChecker(Step.ARITH) {
    function execute(State memory s, Op memory op) internal pure override returns (uint256, uint256) {
        return Step.executeArith(s, op);
    }
}

/// Table ops and bulk memory: every op that walks a range one step at a time, and segments.
contract BulkChecker is StepChecker(Step.BULK) {
    function execute(State memory s, Op memory op) internal pure override returns (uint256, uint256) {
        if (op.code <= 0x1c) return Step.tableOp(s, op);
        return Step.bulkMemoryOp(s, op);
    }
}

/// Host calls: the STF imports (StfHost.sol).
contract HostChecker is StepChecker(Step.HOST) {
    function execute(State memory s, Op memory op) internal view override returns (uint256, uint256) {
        return Step.callHost(s, op.a);
    }
}
