//! The referee against a toy machine: rule-by-rule checks, then randomized games between honest
//! and dishonest players in which the honest party must always win.

mod games;
mod players;
mod referee;
mod rules;
mod toy;
