//! Evo Voice billing (being built).
