// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig} from "./RollupConfig.sol";
import {Inbox} from "./Inbox.sol";
import {OneStepVerifier} from "./OneStepVerifier.sol";
import {AssertionChain} from "./AssertionChain.sol";
import {Disputes} from "./Disputes.sol";
import {Guardian} from "./Guardian.sol";
import {Outbox} from "./Outbox.sol";

/// The settlement contract of a Hauptbuch rollup: the assertions over the Inbox's batches and
/// their stakes (AssertionChain.sol), the dispute trees that decide which are wrong
/// (Disputes.sol), the payment of confirmed withdrawals (Outbox.sol) and the guardian that may
/// delay payouts for bounded times (Guardian.sol), in one contract so that they share the
/// assertions' storage and the stakes and bonds it holds.
///
/// Deployed after the Inbox (with the same config) and the one-step checker; the Inbox's deployer
/// then binds it with `Inbox.bindRollup`.
contract Rollup is Disputes, Outbox {
    constructor(RollupConfig memory config, Inbox inbox_, OneStepVerifier verifier_)
        AssertionChain(config, inbox_)
        Disputes(config, verifier_)
        Guardian(config)
    {}
}
