//! The refusals of the dispute protocol, each named as the contract's error.

use thiserror::Error;

use super::NodeKey;

/// A refused move, named as the contract's error.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("time went back from {last} to {now}")]
    TimeWentBackwards { last: u64, now: u64 },
    #[error("WrongBond: sent {sent}, expected {expected}")]
    WrongBond { sent: u128, expected: u128 },
    #[error("UnknownAssertion")]
    UnknownAssertion,
    #[error("ParentRejected({0})")]
    ParentRejected(u64),
    #[error("ParentHasConfirmedChild({0})")]
    ParentHasConfirmedChild(u64),
    #[error("BadFinalState: zero steps")]
    ZeroSteps,
    #[error("AssertionExists({0})")]
    AssertionExists(u64),
    #[error("StakedElsewhere({0})")]
    StakedElsewhere(u64),
    #[error("AlreadyBacking({0})")]
    AlreadyBacking(u64),
    #[error("NotPending({id}, {status})")]
    NotPending { id: u64, status: u8 },
    #[error("NoStake")]
    NoStake,
    #[error("StakeNotFree({0})")]
    StakeNotFree(u64),
    #[error("ParentNotConfirmed({0})")]
    ParentNotConfirmed(u64),
    #[error("ChallengePeriodRunning({0})")]
    ChallengePeriodRunning(u64),
    #[error("DisputeOpen({0})")]
    DisputeOpen(NodeKey),
    #[error("NotVoided({0})")]
    NotVoided(u64),
    #[error("NoCredits")]
    NoCredits,
    #[error("ChallengePeriodOver({0})")]
    ChallengePeriodOver(u64),
    #[error("OneStepSegment")]
    OneStepSegment,
    #[error("AlreadyChallenged({0})")]
    AlreadyChallenged(NodeKey),
    #[error("NoSuchNode({0})")]
    NoSuchNode(NodeKey),
    #[error("NotAChallenge({0})")]
    NotAChallenge(NodeKey),
    #[error("NotADissection({0})")]
    NotADissection(NodeKey),
    #[error("NodeResolved({0})")]
    NodeResolved(NodeKey),
    #[error("MoveTooLate({0})")]
    MoveTooLate(u64),
    #[error("WrongHashCount({expected}, {got})")]
    WrongHashCount { expected: u64, got: usize },
    #[error("BadPostedHashes")]
    BadPostedHashes,
    #[error("AlreadyPosted({0})")]
    AlreadyPosted(NodeKey),
    #[error("IndexOutOfRange({index}, {parts})")]
    IndexOutOfRange { index: u64, parts: u64 },
    #[error("NotOneStep({0})")]
    NotOneStep(u64),
    #[error("the one-step checker refused the proof: {0}")]
    ProofRejected(String),
    #[error("StepHolds")]
    StepHolds,
    #[error("NotFinal")]
    NotFinal,
    #[error("BadLength")]
    BadLength,
    #[error("BadHaltedState")]
    BadHaltedState,
    #[error("NotHalted")]
    NotHalted,
    #[error("MoveWindowOpen({0})")]
    MoveWindowOpen(u64),
    #[error("ChildrenOpen({0})")]
    ChildrenOpen(u32),
}

impl Refusal {
    /// The Solidity error's name (what a revert decodes to).
    pub fn error_name(&self) -> &'static str {
        match self {
            Refusal::TimeWentBackwards { .. } => "TimeWentBackwards",
            Refusal::WrongBond { .. } => "WrongBond",
            Refusal::UnknownAssertion => "UnknownAssertion",
            Refusal::ParentRejected(_) => "ParentRejected",
            Refusal::ParentHasConfirmedChild(_) => "ParentHasConfirmedChild",
            Refusal::ZeroSteps => "BadFinalState",
            Refusal::AssertionExists(_) => "AssertionExists",
            Refusal::StakedElsewhere(_) => "StakedElsewhere",
            Refusal::AlreadyBacking(_) => "AlreadyBacking",
            Refusal::NotPending { .. } => "NotPending",
            Refusal::NoStake => "NoStake",
            Refusal::StakeNotFree(_) => "StakeNotFree",
            Refusal::ParentNotConfirmed(_) => "ParentNotConfirmed",
            Refusal::ChallengePeriodRunning(_) => "ChallengePeriodRunning",
            Refusal::DisputeOpen(_) => "DisputeOpen",
            Refusal::NotVoided(_) => "NotVoided",
            Refusal::NoCredits => "NoCredits",
            Refusal::ChallengePeriodOver(_) => "ChallengePeriodOver",
            Refusal::OneStepSegment => "OneStepSegment",
            Refusal::AlreadyChallenged(_) => "AlreadyChallenged",
            Refusal::NoSuchNode(_) => "NoSuchNode",
            Refusal::NotAChallenge(_) => "NotAChallenge",
            Refusal::NotADissection(_) => "NotADissection",
            Refusal::NodeResolved(_) => "NodeResolved",
            Refusal::MoveTooLate(_) => "MoveTooLate",
            Refusal::WrongHashCount { .. } => "WrongHashCount",
            Refusal::BadPostedHashes => "BadPostedHashes",
            Refusal::AlreadyPosted(_) => "AlreadyPosted",
            Refusal::IndexOutOfRange { .. } => "IndexOutOfRange",
            Refusal::NotOneStep(_) => "NotOneStep",
            Refusal::ProofRejected(_) => "ProofRejected",
            Refusal::StepHolds => "StepHolds",
            Refusal::NotFinal => "NotFinal",
            Refusal::BadLength => "BadLength",
            Refusal::BadHaltedState => "BadHaltedState",
            Refusal::NotHalted => "NotHalted",
            Refusal::MoveWindowOpen(_) => "MoveWindowOpen",
            Refusal::ChildrenOpen(_) => "ChildrenOpen",
        }
    }
}
