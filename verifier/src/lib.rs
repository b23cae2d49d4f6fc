//! The referee: what would live on L1. It decides disputes over execution claims without ever
//! running a program — it checks moves, keeps the clocks, settles bonds, and asks a stateless
//! one-step checker about exactly one instruction at the end of a bisection.

pub mod bisection;
